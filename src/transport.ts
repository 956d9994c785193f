/**
 * The contract between a bus and the thing that carries its events beyond the process
 * (worker threads, NATS, Redis). The bus keeps local dispatch; a transport only moves envelopes.
 */
import type { Envelope } from "./envelope.js";

/** What a transport can do beyond live fan-out. */
export interface TransportCapabilities {
  /** Queue groups: one member across all processes gets each event. */
  readonly groups: boolean;
  /** Durable subscriptions that survive a subscriber's absence. */
  readonly durable: boolean;
  /** Request/reply across processes. */
  readonly request: boolean;
}

/** Connection state reported by a transport. */
export type TransportStatus =
  | { readonly state: "connected"; readonly server?: string }
  | { readonly state: "disconnected" | "reconnecting"; readonly error?: unknown }
  /** `error` when the transport closed on its own (it gave up reconnecting), not by close(). */
  | { readonly state: "closed"; readonly error?: unknown }
  | { readonly state: "error"; readonly error: unknown };

/** What the bus hands a transport when it connects. */
export interface TransportContext {
  /** Unique id of the bus instance; transports drop their own echoes by it. */
  readonly origin: string;
  /**
   * What every id the bus generates begins with, and no other bus's ids. A frame whose id has it
   * is the bus's own and needs no origin header (see `ce-agentbusorigin` in docs/scaling-out.md).
   */
  readonly idPrefix?: string;
  /** Reports one clear line about something dropped or wrong on the wire. */
  log(message: string): void;
  /** Reports a change of connection state. */
  status(status: TransportStatus): void;
}

/** Options of one remote subscription. */
export interface RemoteSubscribeOptions {
  /** Queue group: the broker gives each event to one member of the group. */
  readonly group?: string;
  /** Durable consumer name: at-least-once, acknowledged after delivery succeeded. */
  readonly durable?: string;
}

/** Receives the events of one remote subscription; a durable one is acknowledged when this resolves. */
export type RemoteDelivery = (envelope: Envelope) => void | Promise<void>;

/** Receives a request from the wire and resolves with the reply data. */
export type RemoteResponder = (envelope: Envelope) => Promise<unknown>;

/** A remote subscription, ended by `unsubscribe`. */
export interface RemoteSubscription {
  unsubscribe(): void | Promise<void>;
  /**
   * Resolves once the broker routes matching events to this subscription (a round trip, or the
   * durable consumer created); `bus.ready()` waits for it.
   */
  readonly ready?: Promise<void>;
}

/** Options of one remote request. */
export interface RemoteRequestOptions {
  readonly timeout: number;
  readonly signal?: AbortSignal;
}

/**
 * Moves envelopes between buses; one per bus, passed as `new EventBus({ transport })`.
 * The bus calls `send`, `subscribe`, `respond` and `request` only after `connect` resolved,
 * queueing what comes earlier, so transports need no start-up buffering of their own.
 */
export interface Transport {
  /** Short name for messages, like "nats". */
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** Connects; the bus awaits it in `ready()`. */
  connect(context: TransportContext): Promise<void>;
  /**
   * Checks and encodes an event for the wire, synchronously, throwing a PayloadError for data
   * that cannot cross it: a refused publish is refused before any subscriber saw it.
   */
  encode(envelope: Envelope): unknown;
  /** Sends what `encode` returned; called only once `connect` has resolved. */
  send(frame: unknown): void;
  /** Starts a remote subscription for a pattern (exact type or wildcards). */
  subscribe(pattern: string, options: RemoteSubscribeOptions, delivery: RemoteDelivery): RemoteSubscription;
  /** Sends a request to one remote responder and resolves with its reply data. */
  request(envelope: Envelope, options: RemoteRequestOptions): Promise<unknown>;
  /** Answers requests of one event type from other buses. */
  respond(eventType: string, responder: RemoteResponder): RemoteSubscription;
  /** Sends everything still buffered, then disconnects. */
  close(): Promise<void>;
  /**
   * Optional: the bus closes while `connect` is still pending (a server that is not up, waited
   * for): give up connecting, so that `connect` rejects soon; `close` follows once it did.
   */
  abandon?(): void;
}
