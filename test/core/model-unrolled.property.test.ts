// The model-based property test again, with unrolled walks earned after one publish instead of
// sixteen: the random runs then go through walks nearly everywhere (removals, additions and
// nested publishes mid-walk, groups joining warm lists, once), against the same model.
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { type Operation, runModel, runReal, runs } from "./_model.js";

vi.mock("../../src/_unrolled.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/_unrolled.js")>()),
  UNROLL_AFTER: 1,
}));

describe("the bus against the reference model, walks unrolled at once", () => {
  it("delivers exactly what the model predicts, in order", () => {
    const normalise = (ops: Operation[]) =>
      ops.map((op) => (op.kind === "subscribe" && op.group !== null ? { ...op, once: false } : op));
    fc.assert(
      fc.property(runs, (raw) => {
        const operations = normalise(raw);
        expect(runReal(operations)).toEqual(runModel(operations));
      }),
      { numRuns: 20000 },
    );
  });
});
