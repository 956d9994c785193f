/** The check every case makes before it measures: the operation calls its listeners as promised. */

import { state } from "./_listeners.mjs";

const VERIFY_OPS = 64;

/** Throws when VERIFY_OPS operations do not make callsPerOp listener calls each. */
export async function verify(op, callsPerOp, isAsync) {
  const before = state.calls;
  for (let i = 0; i < VERIFY_OPS; i++) {
    if (isAsync) await op();
    else op();
  }
  const calls = state.calls - before;
  const expected = Math.round(callsPerOp * VERIFY_OPS);
  if (calls !== expected)
    throw new Error(`expected ${expected} listener calls over ${VERIFY_OPS} ops, got ${calls}`);
}
