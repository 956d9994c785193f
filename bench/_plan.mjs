/** Which cases a run holds and how long each one measures: the full run and the smoke run. */

import { adapters, libraryIds } from "./_adapters.mjs";
import { scenarios } from "./_scenarios.mjs";

export const MODES = {
  full: {
    // Five fresh processes per case: V8 sometimes settles a case's hot loop in a slower shape
    // (the same build lands ~1.7x apart), and the median of five keeps the majority shape.
    rounds: 5,
    timing: { warmupMs: 250, samples: 5, sampleMs: 100 },
    memory: { count: 100_000, samples: 3 },
    churnSizes: [10_000, 50_000, 100_000],
    churnTiming: { samples: 7, warmupMs: 300 },
    typeCounts: [1, 10, 100, 1_000, 10_000, 100_000],
  },
  smoke: {
    rounds: 1,
    timing: { warmupMs: 2, samples: 2, sampleMs: 3 },
    memory: { count: 2_000, samples: 1 },
    churnSizes: [500, 1_000],
    churnTiming: { samples: 2, warmupMs: 1 },
    typeCounts: [1, 100],
  },
};

const SCALE_LIBS = ["plain-loop", "agent-bus", "node-events", "eventemitter3", "nanoevents", "tseep"];
const CHURN_MODES = ["handle-fifo", "handle-lifo", "callback-fifo", "callback-lifo"];
/**
 * A collection before each churn sample, and a young generation that holds the largest run
 * whole: at Node's default (16 MB) the 100,000 run, ~20 MB of subscriptions and handles, paid
 * scavenges and promotion that the 10,000 and 50,000 runs never reached (0.4, 1.9, then 25 ms:
 * a step when the live set outgrows the young generation, not a growth rate of the bus's work).
 */
const CHURN_FLAGS = ["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];

/** Every case of a run: { lib, case, section, node flags, timing }. */
export function planCases(mode) {
  const plan = MODES[mode];
  const cases = [];
  for (const [id, scenario] of Object.entries(scenarios)) {
    for (const lib of libraryIds) {
      if (scenario.applies(adapters[lib], lib))
        cases.push({ lib, case: id, section: "speed", timing: plan.timing });
    }
  }
  for (const variant of ["memory-1type", "memory-1k-types"]) {
    for (const lib of libraryIds) {
      cases.push({
        lib,
        case: `${variant}@${plan.memory.count}`,
        section: "memory",
        flags: ["--expose-gc"],
        timing: { samples: plan.memory.samples },
      });
    }
  }
  for (const churn of CHURN_MODES) {
    for (const n of plan.churnSizes) {
      // Every order and size alike: a cold single run set against warm medians is what made
      // callback-lifo look superlinear (31x for 10x n) once lookups by callback were indexed.
      cases.push({
        lib: "agent-bus",
        case: `churn-${churn}@${n}`,
        section: "churn",
        flags: CHURN_FLAGS,
        timing: plan.churnTiming,
      });
    }
  }
  for (const n of plan.typeCounts) {
    for (const lib of SCALE_LIBS)
      cases.push({ lib, case: `types@${n}`, section: "types", timing: plan.timing });
  }
  return cases;
}
