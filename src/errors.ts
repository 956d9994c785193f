/**
 * A thrown value as one line of text, for the log: never throws itself, whatever was thrown (an
 * object without a prototype, a `message` getter that throws, a cycle).
 */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
    if (typeof error !== "object" || error === null) return String(error);
    const text = String(error);
    // A plain object says more as JSON than as "[object Object]".
    return text === "[object Object]" ? (JSON.stringify(error) ?? text) : text;
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/** Base class of every error the bus raises itself; `name` tells the kind. */
export class AgentBusError extends Error {
  override name = "AgentBusError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A request found no responder for its event type. */
export class NoResponderError extends AgentBusError {
  override name = "NoResponderError";
  /** The event type that nobody answers. */
  readonly eventType: string;
  constructor(eventType: string, options?: { cause?: unknown }) {
    super(`[EventBus] No responder for "${eventType}"`, options);
    this.eventType = eventType;
  }
}

/** A request or `once()` ran out of time. */
export class TimeoutError extends AgentBusError {
  override name = "TimeoutError";
  /** The event type that was awaited. */
  readonly eventType: string;
  /** The time that ran out, in milliseconds. */
  readonly timeout: number;
  constructor(eventType: string, timeout: number) {
    super(`[EventBus] Timed out after ${timeout} ms waiting for "${eventType}"`);
    this.eventType = eventType;
    this.timeout = timeout;
  }
}

/** A chain of nested publishes (A publishes B publishes A ...) went deeper than `maxPublishDepth`. */
export class PublishDepthError extends AgentBusError {
  override name = "PublishDepthError";
  /** The event type whose publish crossed the limit. */
  readonly eventType: string;
  constructor(eventType: string, depth: number) {
    super(
      `[EventBus] Publish depth limit ${depth} exceeded at "${eventType}": a callback cycle? The nested publishes were stopped.`,
    );
    this.eventType = eventType;
  }
}

/** The bus was used after `close()`. */
export class BusClosedError extends AgentBusError {
  override name = "BusClosedError";
  constructor(operation: string) {
    super(`[EventBus] Cannot ${operation}: the bus is closed`);
  }
}

/** A payload cannot cross the wire (functions, symbols, BigInt, cycles, too large). */
export class PayloadError extends AgentBusError {
  override name = "PayloadError";
  /** The event type whose payload was refused. */
  readonly eventType: string;
  constructor(eventType: string, reason: string, options?: { cause?: unknown }) {
    super(`[EventBus] Payload of "${eventType}" cannot be sent: ${reason}`, options);
    this.eventType = eventType;
  }
}

/** The transport failed: connecting, sending, or a broker-side error. */
export class TransportError extends AgentBusError {
  override name = "TransportError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A bounded buffer overflowed and its policy is to fail. */
export class OverflowError extends AgentBusError {
  override name = "OverflowError";
  constructor(message: string) {
    super(message);
  }
}
