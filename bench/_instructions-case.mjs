#!/usr/bin/env node
/**
 * One instruction-count case: `node bench/_instructions-case.mjs <library> <scenario> <ops>` sets
 * the scenario up, checks it, then runs the operation <ops> times and exits. Run under callgrind
 * by bench/instructions.mjs, twice with different counts: the difference is the operations alone.
 */

import { adapterFor } from "./_adapters.mjs";
import { scenarios } from "./_scenarios.mjs";
import { verify } from "./_verify.mjs";

/** Operations between two drains of the promise jobs a drained scenario queues. */
const BATCH = 1000;

/** One loop for every library, so that each one's code is compiled in the same caller. */
function runBatch(op, count) {
  for (let i = 0; i < count; i++) op();
}

const [libId, scenarioId, opsText] = process.argv.slice(2);
const adapter = adapterFor(libId);
const scenario = scenarios[scenarioId];
const ops = Number(opsText);
if (adapter === undefined) throw new Error(`unknown library ${libId}`);
if (scenario === undefined || scenario.kind === "async")
  throw new Error(`not a synchronous scenario: ${scenarioId}`);
if (!scenario.applies(adapter, libId)) throw new Error(`${scenarioId} does not apply to ${libId}`);
if (!Number.isInteger(ops) || ops < 0) throw new Error(`ops must be a non-negative integer, got ${opsText}`);

const { op, callsPerOp } = scenario.setup(adapter);
await verify(op, callsPerOp, false);
for (let done = 0; done < ops; done += BATCH) {
  runBatch(op, Math.min(BATCH, ops - done));
  if (scenario.drain) await Promise.resolve();
}
