#!/usr/bin/env node
/**
 * One benchmark case in this fresh process: `node bench/case.mjs <library> <case> [timing JSON]`.
 * Prints one JSON line: { lib, case, unit, samples }. The runner (bench/run.mjs) spawns these.
 *
 * Cases: a scenario id from _scenarios.mjs; `memory-1type` / `memory-1k-types` (needs
 * --expose-gc); `churn-<handle|callback>-<fifo|lifo>@<n>`; `types@<n>`.
 */

import { adapterFor } from "./_adapters.mjs";
import { churnAtScale, memoryPerSubscription, publishOverTypes } from "./_heavy.mjs";
import { state } from "./_listeners.mjs";
import { measureAsync, measureSync, measureSyncDrained } from "./_measure.mjs";
import { scenarios } from "./_scenarios.mjs";
import { verify } from "./_verify.mjs";

const DEFAULT_TIMING = { warmupMs: 200, samples: 5, sampleMs: 100 };

async function runScenario(adapter, libId, scenarioId, timing) {
  const scenario = scenarios[scenarioId];
  if (!scenario.applies(adapter, libId)) throw new Error(`${scenarioId} does not apply to ${libId}`);
  const { op, callsPerOp, note } = scenario.setup(adapter);
  const isAsync = scenario.kind === "async";
  await verify(op, callsPerOp, isAsync);
  let samples;
  if (isAsync) samples = await measureAsync(op, timing);
  else if (scenario.drain) samples = await measureSyncDrained(op, timing);
  else samples = measureSync(op, timing);
  return { unit: "ops/s", samples, note };
}

async function runCase(libId, caseId, timing) {
  const adapter = adapterFor(libId);
  if (adapter === undefined) throw new Error(`unknown library ${libId}`);
  if (caseId in scenarios) return runScenario(adapter, libId, caseId, timing);
  const [name, size] = caseId.split("@");
  const count = Number(size ?? timing.count);
  if (name === "memory-1type" || name === "memory-1k-types") {
    const typeCount = name === "memory-1type" ? 1 : 1000;
    const samples = await memoryPerSubscription(adapter, { count, typeCount, samples: timing.samples });
    return { unit: "bytes", samples };
  }
  if (name.startsWith("churn-")) {
    const mode = name.slice("churn-".length);
    const samples = churnAtScale(adapter, {
      count,
      mode,
      samples: timing.samples,
      warmupMs: timing.warmupMs,
    });
    return { unit: "ms", samples };
  }
  if (name === "types") return { unit: "ops/s", samples: publishOverTypes(adapter, { count, timing }) };
  throw new Error(`unknown case ${caseId}`);
}

const [libId, caseId, timingJson] = process.argv.slice(2);
const timing = { ...DEFAULT_TIMING, ...(timingJson ? JSON.parse(timingJson) : {}) };
const result = await runCase(libId, caseId, timing);
process.stdout.write(`${JSON.stringify({ lib: libId, case: caseId, ...result, sink: state.sink & 1 })}\n`);
