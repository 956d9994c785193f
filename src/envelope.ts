/**
 * The event envelope: CloudEvents 1.0 attributes around the published data, the second argument
 * of every callback and the unit that transports carry.
 */

/** A CloudEvents 1.0 event as the bus hands it to callbacks. */
export interface Envelope<T = unknown> {
  /** CloudEvents version, always "1.0". */
  readonly specversion: "1.0";
  /** Unique per source; transports use it to drop duplicates. */
  readonly id: string;
  /** The event type it was published under (never a pattern). */
  readonly type: string;
  /** Who published it: the bus's `source` option. */
  readonly source: string;
  /** RFC 3339 time of the publish. */
  readonly time: string;
  /** The published data, the same reference the publisher passed. */
  readonly data: T;
  /** Media type of `data` once it crossed a wire. */
  readonly datacontenttype?: string;
  /** Ties a reply to its request, or events of one conversation together. */
  readonly correlationid?: string;
  /** W3C trace context of the publisher, passed through untouched. */
  readonly traceparent?: string;
}

/** Extra attributes a publisher may set on one event. */
export interface PublishOptions {
  /** Use this id instead of a generated one (for idempotent re-publishing). */
  id?: string;
  /** Correlation id carried to the subscribers. */
  correlationid?: string;
  /** W3C traceparent carried to the subscribers. */
  traceparent?: string;
}

function randomPrefix(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** A bus's event ids, and what all of them begin with. */
export interface IdSource {
  (): string;
  /** `<random prefix>-`: every id of this source, and no other source's, begins with it. */
  readonly prefix: string;
}

/**
 * Makes event ids: a random prefix per bus and a counter, unique without paying for a UUID
 * on every publish.
 */
export function createIdSource(): IdSource {
  const prefix = `${randomPrefix()}-`;
  let counter = 0;
  return Object.assign(() => `${prefix}${(++counter).toString(36)}`, { prefix });
}

/** Publishes that may share one time reading before the clock is read again. */
const TIME_REUSE = 64;
let cachedTime = "";
let reuseLeft = 0;
let expiryQueued = false;

function expireTime(): void {
  reuseLeft = 0;
  expiryQueued = false;
}

/**
 * The RFC 3339 time now. Reading the clock costs more than building the rest of an envelope, so
 * one reading serves up to 64 envelopes built in the same synchronous run; a new task always
 * reads the clock afresh.
 */
export function currentTime(): string {
  if (reuseLeft === 0) {
    cachedTime = new Date().toISOString();
    reuseLeft = TIME_REUSE;
    if (!expiryQueued) {
      expiryQueued = true;
      queueMicrotask(expireTime);
    }
  }
  reuseLeft--;
  return cachedTime;
}

/** Builds an envelope from its parts; the optional attributes appear only when given. */
export function createEnvelope<T>(
  type: string,
  data: T,
  source: string,
  id: string,
  options?: PublishOptions,
): Envelope<T> {
  const envelope: {
    specversion: "1.0";
    id: string;
    type: string;
    source: string;
    time: string;
    data: T;
    correlationid?: string;
    traceparent?: string;
  } = {
    specversion: "1.0",
    id: options?.id ?? id,
    type,
    source,
    time: currentTime(),
    data,
  };
  if (options?.correlationid !== undefined) envelope.correlationid = options.correlationid;
  if (options?.traceparent !== undefined) envelope.traceparent = options.traceparent;
  return envelope;
}
