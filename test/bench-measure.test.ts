// How the churn cases are timed: a warm-up by time, a collection before each sample, and the
// young generation that keeps the largest run out of scavenges. Each was a measurement error
// before (cold 10,000 runs, the 100,000 run alone paying for GC), so each is checked here.
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: the bench scripts are plain ES modules without type declarations
import { timeRuns } from "../bench/_measure.mjs";
// @ts-expect-error: the bench scripts are plain ES modules without type declarations
import { planCases } from "../bench/_plan.mjs";

const globals = globalThis as { gc?: () => void };
const originalGc = globals.gc;

afterEach(() => {
  globals.gc = originalGc;
});

/** A task that takes about `ms` milliseconds and logs each run. */
function busyTask(ms: number, log: string[]) {
  return () => {
    log.push("run");
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
}

describe("timeRuns", () => {
  it("warms up for warmupMs, not for one run, then times each sample", () => {
    const log: string[] = [];
    const samples = timeRuns(busyTask(2, log), { samples: 3, warmupMs: 40 });
    expect(samples).toHaveLength(3);
    for (const ms of samples) expect(ms).toBeGreaterThanOrEqual(2);
    // 40 ms of 2 ms runs: far more than the one warm-up run it used to make.
    expect(log.length - 3).toBeGreaterThanOrEqual(10);
  });

  it("runs the task once before sampling even with no warm-up time", () => {
    const log: string[] = [];
    timeRuns(busyTask(0, log), { samples: 2, warmupMs: 0 });
    expect(log).toHaveLength(3);
  });

  it("collects garbage before each sample when the process has gc", () => {
    const log: string[] = [];
    globals.gc = () => log.push("gc");
    timeRuns(busyTask(0, log), { samples: 2, warmupMs: 0 });
    expect(log).toEqual(["run", "gc", "run", "gc", "run"]);
  });
});

describe("the churn cases' plan", () => {
  it("gives every churn case gc and a young generation that holds its largest run", () => {
    for (const mode of ["full", "smoke"]) {
      const churn = planCases(mode).filter((entry: { section: string }) => entry.section === "churn");
      expect(churn.length).toBeGreaterThan(0);
      for (const entry of churn) {
        expect(entry.flags).toEqual(
          expect.arrayContaining(["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"]),
        );
        expect(entry.timing.samples).toBeGreaterThanOrEqual(2);
      }
    }
    const full = planCases("full").find((entry: { case: string }) => entry.case.startsWith("churn-"));
    expect(full.timing.warmupMs).toBeGreaterThanOrEqual(100);
  });
});
