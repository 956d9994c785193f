/**
 * The cases that are about size, not speed of one call: heap bytes per subscription, and how
 * subscribe/unsubscribe and publish scale with the number of subscriptions or types.
 */

import { makeListener, payload, state } from "./_listeners.mjs";
import { measureSync, timeRuns } from "./_measure.mjs";

const TYPE = "task.completed";

const settle = () => new Promise((resolve) => setImmediate(resolve));

function heapUsed() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Bytes per subscription: the heap held by an emitter with `count` subscriptions (of distinct,
 * pre-built callbacks on `typeCount` types), divided by `count`. Unsubscribe handles are dropped.
 */
export async function memoryPerSubscription(adapter, { count, typeCount, samples }) {
  if (typeof globalThis.gc !== "function") throw new Error("memory cases need node --expose-gc");
  const callbacks = Array.from({ length: count }, (_, i) => makeListener(i));
  const types = Array.from({ length: typeCount }, (_, i) => `agent${i}.task.completed`);
  const results = [];
  // One call per sample: its frame, and the emitter in it, are gone before the next "before".
  for (let s = 0; s < samples; s++) results.push(await measureOneEmitter(adapter, callbacks, types));
  return results;
}

async function measureOneEmitter(adapter, callbacks, types) {
  await settle();
  const before = heapUsed();
  const em = adapter.create({ unlimited: true });
  for (let i = 0; i < callbacks.length; i++) adapter.sub(em, types[i % types.length], callbacks[i]);
  // Let work a subscribe queued (emittery's async listenerAdded events) finish first.
  await settle();
  const after = heapUsed();
  if (adapter.count !== undefined && adapter.count(em, types[0]) === 0) throw new Error("no subscriptions");
  return (after - before) / callbacks.length;
}

/**
 * Subscribe `count` distinct callbacks on one type, then remove them all; milliseconds per run.
 * Modes: by the returned handle or by unsubscribe(type, callback); oldest first (fifo) or newest
 * first (lifo).
 */
export function churnAtScale(adapter, { count, mode, samples, warmupMs }) {
  const callbacks = Array.from({ length: count }, (_, i) => makeListener(i));
  const [by, order] = mode.split("-");
  const handles = new Array(count);
  const run = () => {
    const em = adapter.create({ unlimited: true });
    for (let i = 0; i < count; i++) handles[i] = adapter.sub(em, TYPE, callbacks[i]);
    for (let k = 0; k < count; k++) {
      const i = order === "fifo" ? k : count - 1 - k;
      if (by === "handle") adapter.unsub(em, TYPE, callbacks[i], handles[i]);
      else adapter.unsubByCallback(em, TYPE, callbacks[i]);
    }
    if (adapter.count !== undefined && adapter.count(em, TYPE) !== 0) {
      throw new Error("subscriptions left after the churn");
    }
  };
  return timeRuns(run, { samples, warmupMs });
}

/** Publish round-robin over `count` types with one listener each. */
export function publishOverTypes(adapter, { count, timing }) {
  const em = adapter.create({ unlimited: true });
  const types = Array.from({ length: count }, (_, i) => `agent${i}.task.completed`);
  for (let i = 0; i < count; i++) adapter.sub(em, types[i], makeListener(i));
  let i = 0;
  const op = () => {
    adapter.emit(em, types[i], payload);
    if (++i === count) i = 0;
  };
  const before = state.calls;
  for (let k = 0; k < count; k++) op();
  if (state.calls - before !== count) throw new Error(`expected ${count} calls, got ${state.calls - before}`);
  return measureSync(op, timing);
}
