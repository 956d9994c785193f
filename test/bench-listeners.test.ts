// A timed case must measure a library's steady state. A listener whose arithmetic leaves V8's
// small-integer range deoptimizes the code under test mid-run, and V8 re-optimizes it in a shape
// that depends on each library's call tree (session 17: agent-bus over 1,000 types timed 30 ns a
// publish, 23 ns once the listeners' sink was masked). So the scale cases run here long enough to
// overflow an unmasked sink, and V8's own trace must show no such deoptimization.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const caseScript = fileURLToPath(new URL("../bench/case.mjs", import.meta.url));
// Long enough for ~10 million calls at 1,000 types: an unmasked sink overflows after ~4 million.
const timing = JSON.stringify({ warmupMs: 300, samples: 1, sampleMs: 20 });

describe("the scale cases' listeners", () => {
  it.each([
    ["agent-bus", "types@1000"],
    ["nanoevents", "types@1000"],
    ["agent-bus", "types@100000"],
  ])(
    "deoptimize nothing for an integer overflow: %s %s",
    async (lib, caseId) => {
      const { stdout } = await run(process.execPath, ["--trace-deopt", caseScript, lib, caseId, timing], {
        maxBuffer: 64 * 1024 * 1024,
      });
      const result = JSON.parse(stdout.trim().split("\n").at(-1) as string);
      expect(result.samples.length).toBe(1);
      expect(stdout.match(/reason: overflow/g) ?? []).toEqual([]);
    },
    30_000,
  );
});
