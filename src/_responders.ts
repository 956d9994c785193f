/** Request/reply: local responders in round robin, the transport when none is local. */
import { describeValue } from "./_checks.js";
import type { Remote } from "./_remote.js";
import type { Envelope } from "./envelope.js";
import { NoResponderError, TimeoutError } from "./errors.js";
import type { Responder } from "./event-map.js";
import { assertEventType } from "./patterns.js";

interface Entry {
  readonly responders: Responder[];
  cursor: number;
  remote: ReturnType<Remote["respond"]> | undefined;
}

/** Default time a request waits for its reply, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;

export class Responders {
  private readonly byType = new Map<string, Entry>();

  constructor(private readonly remote: Remote | undefined) {}

  /** Registers a responder; returns its idempotent removal. */
  add(eventType: string, responder: Responder): () => boolean {
    assertEventType(eventType);
    if (typeof responder !== "function") {
      throw new TypeError(`responder must be a function, got ${describeValue(responder)}`);
    }
    let entry = this.byType.get(eventType);
    if (entry === undefined) {
      entry = { responders: [], cursor: 0, remote: undefined };
      this.byType.set(eventType, entry);
      entry.remote = this.remote?.respond(eventType, (envelope) => this.answer(envelope));
    }
    entry.responders.push(responder);
    let removed = false;
    return () => {
      if (removed) return false;
      removed = true;
      this.remove(eventType, responder);
      return true;
    };
  }

  /** Resolves with the reply of a local responder, else of a remote one. */
  request(envelope: Envelope, options: { timeout?: number; signal?: AbortSignal }): Promise<unknown> {
    // The bus checked the options (_checks.ts) before calling.
    const { timeout = DEFAULT_REQUEST_TIMEOUT, signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.byType.has(envelope.type))
      return withDeadline(this.answerHere(envelope), envelope.type, timeout, signal);
    if (this.remote !== undefined)
      return this.remote.request(envelope, { timeout, ...(signal && { signal }) });
    return Promise.reject(new NoResponderError(envelope.type));
  }

  clear(): void {
    for (const entry of this.byType.values()) this.remote?.cancel(entry.remote);
    this.byType.clear();
  }

  /**
   * A local responder's answer. On a bus with a transport, the request and the reply are held to
   * the wire's rules as if they crossed it, so that moving the responder to another process
   * cannot turn a working request into a PayloadError.
   */
  private answerHere(envelope: Envelope): Promise<unknown> {
    const { remote } = this;
    if (remote === undefined) return this.answer(envelope);
    try {
      remote.checkPayload(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.answer(envelope).then((reply) => {
      remote.checkPayload({ ...envelope, data: reply });
      return reply;
    });
  }

  /** Runs the next local responder; a synchronous throw becomes a rejection. */
  private answer(envelope: Envelope): Promise<unknown> {
    const entry = this.byType.get(envelope.type);
    const responder = entry?.responders[entry.cursor++ % entry.responders.length];
    if (entry === undefined || responder === undefined)
      return Promise.reject(new NoResponderError(envelope.type));
    entry.cursor %= entry.responders.length;
    return new Promise((resolve) => resolve(responder(envelope.data, envelope)));
  }

  private remove(eventType: string, responder: Responder): void {
    const entry = this.byType.get(eventType);
    if (entry === undefined) return;
    const index = entry.responders.indexOf(responder);
    if (index !== -1) entry.responders.splice(index, 1);
    // The responders after it moved down one: so does the turn, which would skip one otherwise.
    if (index !== -1 && index < entry.cursor) entry.cursor--;
    if (entry.responders.length > 0) return;
    this.byType.delete(eventType);
    this.remote?.cancel(entry.remote);
  }
}

/** Races a promise against a timeout and an abort signal, cleaning up whichever loses. */
export function withDeadline<T>(
  promise: Promise<T>,
  eventType: string,
  timeout: number,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => finish(() => reject(signal?.reason));
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(eventType, timeout))), timeout);
    function finish(settle: () => void): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
