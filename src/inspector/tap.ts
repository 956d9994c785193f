/**
 * The inspector's view of a bus: recent events, counters per type, events per second and callback
 * errors, gathered from one `>` subscription and a delivery observer.
 */
import type { EventBus } from "../bus.js";
import type { Envelope } from "../envelope.js";
import type { DeliveryRecord } from "../options.js";
import { RateHistory } from "./rates.js";

/** Counters of one event type. */
export interface TypeCounters {
  published: number;
  delivered: number;
  failed: number;
}

/** A callback error as the inspector shows it. */
export interface CallbackFailure {
  readonly eventType: string;
  readonly message: string;
  readonly time: string;
}

/** Upper bounds of the callback duration histogram, in seconds (Prometheus `le`). */
export const DURATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] as const;

/** Options of `createTap()`. */
export interface TapOptions {
  /**
   * Events kept for a page that opens late.
   * @default 200
   */
  recentSize?: number;
  /**
   * Distinct event types counted one by one; later ones are counted under "(other)".
   * @default 1000
   */
  maxTypes?: number;
}

const OTHER = "(other)";

export class BusTap {
  readonly startedAt = new Date().toISOString();
  readonly rates = new RateHistory();
  readonly totals: TypeCounters = { published: 0, delivered: 0, failed: 0 };
  readonly types = new Map<string, TypeCounters>();
  /** Cumulative counts per DURATION_BUCKETS bound, then the +Inf count. */
  readonly durationBuckets: number[] = new Array(DURATION_BUCKETS.length + 1).fill(0);
  durationSum = 0;
  private readonly recentEvents: Envelope[] = [];
  private readonly failures: CallbackFailure[] = [];
  private readonly listeners = new Set<(envelope: Envelope) => void>();
  private readonly stop: (() => unknown)[];
  private readonly recentSize: number;
  private readonly maxTypes: number;
  private readonly onEvent: (data: unknown, envelope: Envelope) => void;

  constructor(
    readonly bus: EventBus,
    options: TapOptions = {},
  ) {
    this.recentSize = options.recentSize ?? 200;
    this.maxTypes = options.maxTypes ?? 1000;
    this.onEvent = (_data, envelope) => this.record(envelope);
    this.stop = [bus.subscribe(">", this.onEvent), bus.addObserver((record) => this.observe(record))];
  }

  /** Calls the listener for every event from now on; returns its removal. */
  listen(listener: (envelope: Envelope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The most recent events, oldest first. */
  recent(): readonly Envelope[] {
    return this.recentEvents;
  }

  /** The most recent callback errors, oldest first. */
  errors(): readonly CallbackFailure[] {
    return this.failures;
  }

  /** Subscriptions per type or pattern, the tap's own left out. */
  subscribers(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const pattern of this.bus.eventTypes()) {
      const count = this.bus.listenerCount(pattern) - (pattern === ">" ? 1 : 0);
      if (count > 0) counts[pattern] = count;
    }
    return counts;
  }

  close(): void {
    for (const stop of this.stop) stop();
    this.listeners.clear();
  }

  private counters(eventType: string): TypeCounters {
    let counters = this.types.get(eventType);
    if (counters !== undefined) return counters;
    const full = this.types.size >= this.maxTypes;
    if (full) counters = this.types.get(OTHER);
    if (counters === undefined) {
      counters = { published: 0, delivered: 0, failed: 0 };
      this.types.set(full ? OTHER : eventType, counters);
    }
    return counters;
  }

  private record(envelope: Envelope): void {
    this.totals.published++;
    this.counters(envelope.type).published++;
    this.rates.count(envelope.type);
    this.recentEvents.push(envelope);
    if (this.recentEvents.length > this.recentSize) this.recentEvents.shift();
    for (const listener of this.listeners) listener(envelope);
  }

  private observe(record: DeliveryRecord): void {
    // The tap's own `>` callback is not a delivery anyone asked for.
    if (record.callback === this.onEvent) return;
    const counters = this.counters(record.eventType);
    const seconds = record.durationMs / 1000;
    this.durationSum += seconds;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= (DURATION_BUCKETS[i] as number)) (this.durationBuckets[i] as number)++;
    }
    (this.durationBuckets[DURATION_BUCKETS.length] as number)++;
    if (!record.failed) {
      counters.delivered++;
      this.totals.delivered++;
      return;
    }
    counters.failed++;
    this.totals.failed++;
    const { error } = record;
    this.failures.push({
      eventType: record.eventType,
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      time: new Date().toISOString(),
    });
    if (this.failures.length > 100) this.failures.shift();
  }
}
