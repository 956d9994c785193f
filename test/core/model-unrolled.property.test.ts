// The model-based property test again, with unrolled walks earned after one publish instead of
// sixteen: the random runs then go through walks nearly everywhere (removals, additions and
// nested publishes mid-walk, groups joining warm lists, once), against the same model.
import { describe, it, vi } from "vitest";
import { assertMatchesModel } from "./_model.js";

vi.mock("../../src/_unrolled.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/_unrolled.js")>()),
  UNROLL_AFTER: 1,
}));

describe("the bus against the reference model, walks unrolled at once", () => {
  it("delivers exactly what the model predicts, in order", () => {
    assertMatchesModel(20000);
  });
});
