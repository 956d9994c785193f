/// <reference lib="esnext.disposable" preserve="true" />
/** The options and records of the EventBus API. */
import type { Envelope, PublishOptions } from "./envelope.js";
import type { Transport, TransportStatus } from "./transport.js";

/** Where a callback error happened, handed to `onError`. */
export interface ErrorContext {
  /** The event type that was published. */
  readonly eventType: string;
  /**
   * The event being delivered, with the publish's attributes: the envelope the publish's other
   * callbacks get (built for the report if none of them needed it before). A promise that rejects
   * after its publish returned gets one built then, with a new id unless the publisher gave one.
   */
  readonly event: Envelope;
  /** The callback that failed. */
  readonly callback: (...args: never[]) => unknown;
}

/** Options of `new EventBus()`. */
export interface EventBusOptions {
  /**
   * CloudEvents `source` of the events this bus publishes.
   * @default "agent-bus/<random id>"
   */
  source?: string;
  /**
   * Receives every callback error instead of the default log line
   * `[EventBus] Error in callback for <eventType>: <message>` on console.error.
   */
  onError?: (error: unknown, context: ErrorContext) => void;
  /**
   * Subscriptions on one pattern above which one leak warning is printed; 0 turns it off.
   * @default 100
   */
  maxListeners?: number;
  /**
   * Nesting depth of publishes from inside callbacks at which a cycle is assumed and stopped.
   * @default 32
   */
  maxPublishDepth?: number;
  /** Carries events to other threads, processes or machines; none keeps the bus in memory. */
  transport?: Transport;
  /** Receives the transport's connection state changes. */
  onStatus?: (status: TransportStatus) => void;
}

/** Options of `subscribe()`. */
export interface SubscribeOptions {
  /** Removes the subscription when aborted. */
  signal?: AbortSignal;
  /** Removes the subscription before its first call. */
  once?: boolean;
  /** Each event goes to one subscription of the group (round robin; a queue group on a broker). */
  group?: string;
  /** Durable consumer name: needs a transport that supports durable subscriptions. */
  durable?: string;
}

/** Removes exactly one registration; returns whether it was still there. Idempotent. */
export interface Unsubscribe {
  (): boolean;
  [Symbol.dispose](): void;
}

/** The outcome of `publishAsync()`. */
export interface DeliveryReport {
  /** Callbacks that returned, or whose promise resolved. */
  readonly delivered: number;
  /** Callbacks that threw, or whose promise rejected (reported to onError too). */
  readonly failed: number;
}

/** One callback call, as observers see it. */
export interface DeliveryRecord {
  /** The event type that was published. */
  readonly eventType: string;
  /** Time the callback took, in milliseconds; until its promise settled for async callbacks. */
  readonly durationMs: number;
  /** True when the callback threw or its promise rejected. */
  readonly failed: boolean;
  /** What it threw, when it failed. */
  readonly error?: unknown;
  /** The callback that was called. */
  readonly callback: (...args: never[]) => unknown;
}

/** Watches every callback call of a bus: for metrics and inspectors, never for delivery itself. */
export type DeliveryObserver = (record: DeliveryRecord) => void;

/** Options of `once()`. */
export interface OnceOptions {
  signal?: AbortSignal;
  /** Milliseconds after which the promise rejects with a TimeoutError. */
  timeout?: number;
}

/** Options of `request()`. */
export interface RequestOptions extends PublishOptions {
  /**
   * Milliseconds after which the request rejects with a TimeoutError.
   * @default 30000
   */
  timeout?: number;
  signal?: AbortSignal;
}
