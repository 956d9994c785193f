/** The async iterator behind `bus.events(pattern)`: a bounded queue between callbacks and a loop. */
import { shownValue } from "./_checks.js";
import type { Envelope } from "./envelope.js";
import { OverflowError } from "./errors.js";

/** What `events()` does when its buffer is full and another event arrives. */
export type OverflowPolicy = "drop-oldest" | "drop-newest" | "error";

/** Options of `bus.events()`. */
export interface EventStreamOptions {
  /** Ends the iteration (the loop exits normally) when aborted. */
  signal?: AbortSignal;
  /**
   * Events held while the loop is busy.
   * @default 1024
   */
  bufferSize?: number;
  /**
   * On a full buffer: drop the oldest event, drop the new one, or fail the iteration.
   * @default "drop-oldest"
   */
  overflow?: OverflowPolicy;
}

/** An async iterator of envelopes that also counts the events its overflow policy dropped. */
export interface EventStream<T = unknown> extends AsyncIterableIterator<Envelope<T>> {
  /** Events dropped so far because the buffer was full. */
  readonly dropped: number;
}

type Waiter = {
  resolve: (result: IteratorResult<Envelope>) => void;
  reject: (error: unknown) => void;
};

const DONE: IteratorResult<Envelope> = { done: true, value: undefined };

export class EventQueue implements EventStream {
  dropped = 0;
  private buffer: Envelope[] = [];
  private head = 0;
  /** `next()` calls waiting for an event, first come first served. */
  private readonly waiters: Waiter[] = [];
  private failure: unknown;
  private ended = false;
  private readonly capacity: number;
  private readonly overflow: OverflowPolicy;

  constructor(
    options: EventStreamOptions,
    private readonly stop: () => void,
  ) {
    const capacity = options.bufferSize ?? 1024;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new TypeError(`bufferSize must be a positive integer, got ${shownValue(capacity)}`);
    }
    const overflow = options.overflow ?? "drop-oldest";
    if (!["drop-oldest", "drop-newest", "error"].includes(overflow)) {
      throw new TypeError(
        `overflow must be "drop-oldest", "drop-newest" or "error", got ${JSON.stringify(overflow)}`,
      );
    }
    this.capacity = capacity;
    this.overflow = overflow;
  }

  /** Called by the subscription for every event. */
  push(envelope: Envelope): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ done: false, value: envelope });
      return;
    }
    if (this.buffer.length - this.head < this.capacity) {
      this.buffer.push(envelope);
      return;
    }
    this.dropped++;
    if (this.overflow === "drop-newest") return;
    if (this.overflow === "error") {
      this.fail(new OverflowError(`[EventBus] events() buffer of ${this.capacity} overflowed`));
      return;
    }
    this.head++;
    this.buffer.push(envelope);
    this.compact();
  }

  /** Ends the stream: pending and later `next()` calls report done once the buffer is empty. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stop();
    for (const waiter of this.waiters.splice(0)) waiter.resolve(DONE);
  }

  next(): Promise<IteratorResult<Envelope>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head++] as Envelope;
      this.compact();
      return Promise.resolve({ done: false, value });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  return(): Promise<IteratorResult<Envelope>> {
    this.buffer = [];
    this.head = 0;
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private fail(error: unknown): void {
    this.failure = error;
    // The first waiting `next()` gets the error, the ones after it the end, as after a throw.
    const waiter = this.waiters.shift();
    this.end();
    waiter?.reject(error);
  }

  // Shift in O(1) by moving a head index; reclaim the consumed prefix once it dominates.
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
  }
}
