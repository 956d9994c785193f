/** `once()` and `events()`: waiting on a bus through an ordinary subscription. */
import { EventQueue, type EventStream, type EventStreamOptions } from "./_stream.js";
import type { Envelope } from "./envelope.js";
import { BusClosedError, TimeoutError } from "./errors.js";
import type { OnceOptions, SubscribeOptions, Unsubscribe } from "./options.js";

/** The bus's subscribe, untyped, and its hooks run by `close()`. */
export interface WaitSource {
  subscribe(
    pattern: string,
    callback: (data: unknown, envelope: Envelope) => void,
    options?: SubscribeOptions,
  ): Unsubscribe;
  readonly closeHooks: Set<() => void>;
}

/** Resolves with the data of the next matching event; rejects on timeout, abort or close. */
export function nextEvent(source: WaitSource, pattern: string, options: OnceOptions): Promise<unknown> {
  // The bus checked the options (_checks.ts) before calling.
  const { signal, timeout } = options;
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (fn: () => void) => {
      off();
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      source.closeHooks.delete(onClose);
      fn();
    };
    const onAbort = () => settle(() => reject(signal?.reason));
    const onClose = () => settle(() => reject(new BusClosedError("wait for an event")));
    const off = source.subscribe(pattern, (data) => settle(() => resolve(data)), { once: true });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => settle(() => reject(new TimeoutError(pattern, timeout))), timeout);
    }
    source.closeHooks.add(onClose);
  });
}

/** An async iterator over matching envelopes; ends on abort or close. */
export function eventStream(source: WaitSource, pattern: string, options: EventStreamOptions): EventStream {
  let off: Unsubscribe | undefined;
  const onClose = () => queue.end();
  const queue = new EventQueue(options, () => {
    off?.();
    options.signal?.removeEventListener("abort", onClose);
    source.closeHooks.delete(onClose);
  });
  off = source.subscribe(pattern, (_data, envelope) => queue.push(envelope));
  // Already aborted: ended at once, with nothing left registered (end() ran the cleanup above).
  if (options.signal?.aborted) {
    queue.end();
    return queue;
  }
  options.signal?.addEventListener("abort", onClose, { once: true });
  source.closeHooks.add(onClose);
  return queue;
}
