/** Waiting helpers for tests of asynchronous, cross-bus delivery. */
import type { EventBus } from "../../src/index.js";

/** Polls until the condition holds, or fails naming what was awaited. */
export async function waitFor(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let probes = 0;

/**
 * Resolves once an event published on `from` reaches `to`: subscriptions made on `to` before
 * the call are then in place on the broker too (a connection's operations are processed in order).
 */
export async function linked(to: EventBus, from: EventBus, timeout = 5000): Promise<void> {
  const probe = `probe.p${++probes}`;
  let seen = false;
  const off = to.subscribe(probe, () => {
    seen = true;
  });
  try {
    await Promise.all([to.ready(), from.ready()]);
    const deadline = Date.now() + timeout;
    while (!seen) {
      if (Date.now() > deadline) throw new Error(`no probe event arrived within ${timeout} ms`);
      from.publish(probe, null);
      await waitFor(() => seen, "probe", 50).catch(() => undefined);
    }
  } finally {
    off();
  }
}

/**
 * Waits until everything `from` published so far reached `to`: a probe sent after it arrived,
 * and order per publisher is kept.
 */
export function barrier(to: EventBus, from: EventBus): Promise<void> {
  return linked(to, from);
}

export function uniqueNamespace(prefix = "conf"): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
