/**
 * The NATS transport: events as CloudEvents in binary mode on subjects `<namespace>.<type>`,
 * groups as queue groups, request/reply as NATS requests, durable subscriptions on JetStream.
 * The client (`@nats-io/transport-node`, `@nats-io/jetstream`) is an optional peer dependency,
 * loaded when the transport connects.
 */
import type { Msg, NatsConnection, NodeConnectionOptions, Subscription } from "@nats-io/transport-node";
import { shownValue } from "../_checks.js";
import { withDeadline } from "../_responders.js";
import type { Envelope } from "../envelope.js";
import { describeError, NoResponderError, TimeoutError, TransportError } from "../errors.js";
import { isPattern } from "../patterns.js";
import type {
  RemoteDelivery,
  RemoteRequestOptions,
  RemoteResponder,
  RemoteSubscribeOptions,
  RemoteSubscription,
  Transport,
  TransportCapabilities,
  TransportContext,
} from "../transport.js";
import {
  assertReplySize,
  asText,
  decodeBody,
  decodeFrame,
  encodeBody,
  encodeFrame,
  type FrameAttributes,
  type FrameBody,
  fromWireError,
  isEcho,
  isOtherNamespaceEvent,
  JSON_TYPE,
  toWireError,
  type WireFrame,
} from "./_codec.js";
import { maskUrl } from "./_credentials.js";
import { DirectPublisher, type WireSubject, wireSubject } from "./_nats-direct.js";
import { Durable, type DurableOptions } from "./_nats-durable.js";
import { StallWatch } from "./_nats-stall.js";
import {
  bytesOf,
  DisconnectBuffer,
  type DisconnectedPolicy,
  ERROR_HEADER,
  frameBlock,
  frameHeaders,
  jsonBody,
  KnownHeads,
  loadClient,
  messageAttributes,
  type NatsModules,
  REQUEST_PREFIX,
  RESPONDER_QUEUE,
  toHeaders,
} from "./_nats-wire.js";
import { assertNamespace } from "./memory.js";

export type { DisconnectedPolicy } from "./_nats-wire.js";

/** Options of `natsTransport()`; every other option goes to the NATS client's `connect()` (auth, TLS, reconnect). */
export interface NatsTransportOptions
  extends Omit<NodeConnectionOptions, "servers">,
    Partial<DurableOptions> {
  /**
   * NATS server URLs.
   * @default "127.0.0.1:4222"
   */
  servers?: string | string[];
  /**
   * First tokens of every subject, and the JetStream stream's name: buses see only their namespace.
   * @default "agent-bus"
   */
  namespace?: string;
  /**
   * While disconnected: "buffer" keeps publishes (up to `bufferBytes`) and sends them on
   * reconnect; "reject" makes publish throw a TransportError.
   * @default "buffer"
   */
  disconnected?: DisconnectedPolicy;
  /**
   * Bytes of event bodies kept while disconnected; a publish beyond throws a TransportError.
   * @default 8388608
   */
  bufferBytes?: number;
}

/**
 * A transport over a NATS server.
 * @example
 * import { natsTransport } from "agent-bus/nats";
 * const bus = new EventBus({ transport: natsTransport({ servers: "nats://127.0.0.1:4222", namespace: "demo" }) });
 * await bus.ready();
 */
export function natsTransport(options: NatsTransportOptions = {}): Transport {
  return new NatsTransport(options);
}

interface Encoded {
  readonly subject: WireSubject;
  /** The body as JSON text (written straight into the client's queue), or as bytes. */
  readonly frame: WireFrame<FrameBody>;
}

const NATS_HEADER_OVERHEAD = 64;
/** Event types whose subject is kept; a program with more builds the rest anew each publish. */
const KEPT_SUBJECTS = 1024;
/** Before `connect`: an origin no frame names, and no id prefix. */
const NO_ORIGIN = { origin: "" } as const;

class NatsTransport implements Transport {
  readonly name = "nats";
  readonly capabilities: TransportCapabilities = { groups: true, durable: true, request: true };
  private readonly namespace: string;
  private readonly buffer: DisconnectBuffer;
  /** close() was called: the client's own "close" status is then expected, not a failure. */
  private closing = false;
  private readonly durable: Durable;
  private readonly stalls = new StallWatch((message) => this.log(message));
  /**
   * Subjects by event type, checked once as the client would check them (a regular expression,
   * which first copies a concatenation into a flat string; a kept subject is flat after its first use).
   */
  private readonly subjects = new Map<string, WireSubject>();
  /** Resolved (with no connection) by `abandon`: a connect still waiting stops waiting. */
  private readonly abandoned = settledBy<undefined>();
  private context: TransportContext | undefined;
  private client: NatsModules | undefined;
  private nc: NatsConnection | undefined;
  /** The fast way into the client's outbound queue, when the client has the shape it needs. */
  private direct: DirectPublisher | undefined;

  constructor(private readonly options: NatsTransportOptions) {
    const { namespace = "agent-bus", disconnected = "buffer", bufferBytes = 8 * 1024 * 1024 } = options;
    assertNamespace(namespace);
    if (disconnected !== "buffer" && disconnected !== "reject") {
      throw new TypeError(`disconnected must be "buffer" or "reject", got ${JSON.stringify(disconnected)}`);
    }
    if (!Number.isInteger(bufferBytes) || bufferBytes < 0) {
      throw new TypeError(`bufferBytes must be a non-negative integer, got ${shownValue(bufferBytes)}`);
    }
    this.namespace = namespace;
    this.buffer = new DisconnectBuffer(disconnected, bufferBytes);
    this.durable = new Durable(namespace, options);
  }

  async connect(context: TransportContext): Promise<void> {
    this.context = context;
    this.client = await loadClient();
    const {
      namespace: _n,
      disconnected: _d,
      bufferBytes: _b,
      stream: _s,
      maxDeliver: _m,
      ackWait: _a,
      acks: _k,
      ...connection
    } = this.options;
    const servers = this.options.servers ?? "127.0.0.1:4222";
    let nc: NatsConnection | undefined;
    try {
      const connecting = this.client.connect({ name: `agent-bus ${this.namespace}`, ...connection, servers });
      // nats.js has no way to stop a connect (waitOnFirstConnect retries until the server comes):
      // a bus closed meanwhile stops waiting for it, and closes the connection if one comes.
      nc = await Promise.race([connecting, this.abandoned.promise]);
      if (nc === undefined) {
        void connecting.then((late) => late.close()).catch(() => undefined);
        throw new Error("the bus closed before the server answered");
      }
      this.nc = nc;
      this.direct = DirectPublisher.of(nc);
    } catch (error) {
      const where = maskUrl(Array.isArray(servers) ? servers.join(", ") : String(servers));
      throw new TransportError(`[EventBus:nats] cannot connect to ${where}: ${maskUrl(String(error))}`, {
        cause: error,
      });
    }
    this.durable.attach(nc, this.client, context, () => !this.buffer.down);
    this.watchStatus(nc, context).catch((error: unknown) => this.log(`status watch ended: ${String(error)}`));
    context.status({ state: "connected", server: nc.getServer() });
  }

  abandon(): void {
    this.abandoned.resolve(undefined);
  }

  encode(envelope: Envelope): Encoded {
    const frame = encodeFrame(envelope, this.context ?? NO_ORIGIN, this.payloadLimit(), asText);
    this.buffer.admit(envelope.type, frame.body);
    return { subject: this.subjectOf(envelope.type), frame };
  }

  /** The bytes a message may hold: the server's max_payload, less room for the NATS headers. */
  private payloadLimit(): number {
    return (this.nc?.info?.max_payload ?? 1024 * 1024) - NATS_HEADER_OVERHEAD;
  }

  private subjectOf(eventType: string): WireSubject {
    let subject = this.subjects.get(eventType);
    if (subject === undefined) {
      subject = wireSubject(`${this.namespace}.${eventType}`);
      if (this.subjects.size < KEPT_SUBJECTS) this.subjects.set(eventType, subject);
    }
    return subject;
  }

  send(encoded: unknown): void {
    const { subject, frame } = encoded as Encoded;
    if (this.options.acks === true) {
      const id = frame.headers["ce-id"] as string;
      this.durable.publish(subject.text, frame.headers, bytesOf(frame.body), id);
    } else if (!this.buffer.hold(subject.text, frame.headers, frame.body) && !this.sendDirect(subject, frame))
      this.publish(subject.text, frame.headers, bytesOf(frame.body));
  }

  /** Queues the frame straight into the client's queue; false when the client's publish() must take it. */
  private sendDirect(subject: WireSubject, frame: WireFrame<FrameBody>): boolean {
    if (this.direct === undefined) return false;
    const block = frameBlock(frame.headers);
    return block !== undefined && this.direct.send(subject, block, frame.body);
  }

  subscribe(pattern: string, options: RemoteSubscribeOptions, delivery: RemoteDelivery): RemoteSubscription {
    if (options.durable !== undefined) return this.durable.subscribe(pattern, options.durable, delivery);
    const nc = this.connection();
    const plain = options.group === undefined;
    const self = this.context ?? NO_ORIGIN;
    // An exact type is the message's type: no need to decode its subject, which the client does
    // anew on every read.
    const exactType = isPattern(pattern) ? undefined : pattern;
    const heads = new KnownHeads();
    const subscription = nc.subscribe(`${this.namespace}.${pattern}`, {
      ...(options.group !== undefined && { queue: options.group }),
      callback: (error, msg) => {
        if (error !== null) return this.log(`subscription to "${pattern}" failed: ${error.message}`);
        const attributes = this.attributes(msg, heads);
        if (attributes === undefined || (plain && isEcho(attributes, self))) return;
        const envelope = this.decode(msg, exactType, attributes);
        if (envelope === undefined) return;
        this.stalls.begin(pattern);
        const result = delivery(envelope);
        if (result !== undefined) result.catch(() => undefined);
      },
    });
    // The server has the subscription once a round trip after it completed.
    return { unsubscribe: () => subscription.unsubscribe(), ready: nc.flush() };
  }

  async request(envelope: Envelope, options: RemoteRequestOptions): Promise<unknown> {
    const nc = this.connection();
    const { frame } = this.encode(envelope);
    const headers = toHeaders(this.modules().headers, frame.headers);
    const subject = `${REQUEST_PREFIX}.${this.namespace}.${envelope.type}`;
    const sent = nc
      .request(subject, bytesOf(frame.body), { timeout: options.timeout, headers })
      .catch((error: unknown) => {
        throw mapRequestError(error, envelope.type, options.timeout);
      });
    const reply = await withDeadline(sent, envelope.type, options.timeout, options.signal);
    const failed = reply.headers?.get(ERROR_HEADER);
    if (failed) throw fromWireError({ name: failed, message: reply.string() }, envelope.type);
    return decodeBody(reply.data, reply.headers?.get("content-type") || undefined);
  }

  respond(eventType: string, responder: RemoteResponder): RemoteSubscription {
    const nc = this.connection();
    const subject = `${REQUEST_PREFIX}.${this.namespace}.${eventType}`;
    const subscription: Subscription = nc.subscribe(subject, {
      queue: RESPONDER_QUEUE,
      callback: (_error, msg) => void this.answer(msg, eventType, responder),
    });
    return { unsubscribe: () => subscription.unsubscribe(), ready: nc.flush() };
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.closing = true;
    if (nc === undefined || nc.isClosed()) return;
    await this.durable.close();
    try {
      await nc.drain();
    } catch (error) {
      // A drain needs the server (a server that is down answers nothing): close() still closes.
      this.log(`closed without draining: ${describeError(error)}`);
      await nc.close().catch(() => undefined);
    }
    this.context?.status({ state: "closed" });
  }

  private async answer(msg: Msg, eventType: string, responder: RemoteResponder): Promise<void> {
    const envelope = this.decode(msg, eventType);
    const make = this.modules().headers;
    if (envelope === undefined) {
      msg.respond("malformed request", { headers: toHeaders(make, { [ERROR_HEADER]: "TransportError" }) });
      return;
    }
    try {
      const { body, contentType } = encodeBody(eventType, await responder(envelope));
      // The server would refuse the frame without saying what it was.
      const limit = this.payloadLimit();
      assertReplySize(eventType, body, limit, `the server's max_payload (${limit} bytes after headers)`);
      msg.respond(body, { headers: toHeaders(make, contentType ? { "content-type": contentType } : {}) });
    } catch (error) {
      const { name, message } = toWireError(error);
      msg.respond(message, {
        headers: toHeaders(make, { [ERROR_HEADER]: name, "content-type": "text/plain" }),
      });
    }
  }

  private publish(subject: string, headers: WireFrame["headers"], body: Uint8Array): void {
    this.connection().publish(subject, body, { headers: frameHeaders(this.modules().headers, headers) });
  }

  private decode(
    msg: Msg,
    eventType = msg.subject.slice(this.namespace.length + 1),
    attributes = this.attributes(msg),
  ): Envelope | undefined {
    if (attributes === undefined) return undefined;
    try {
      const body = attributes.contentType === JSON_TYPE ? jsonBody(msg) : msg.data;
      return decodeFrame(eventType, attributes, body);
    } catch (error) {
      if (!isOtherNamespaceEvent(error)) this.dropped(msg, error);
      return undefined;
    }
  }

  /**
   * A message's attributes; undefined, with a line, for a header block the client refuses (a lone
   * CR or LF in a value): its error would otherwise leave the callback and stop the client's reader.
   */
  private attributes(msg: Msg, heads?: KnownHeads): FrameAttributes | undefined {
    try {
      return messageAttributes(msg, heads);
    } catch (error) {
      this.dropped(msg, error);
      return undefined;
    }
  }

  private dropped(msg: Msg, error: unknown): void {
    this.log(`dropped a malformed message on "${msg.subject}": ${(error as Error).message}`);
  }

  /** Follows the connection: holds publishes while it is down, reports each change. */
  private async watchStatus(nc: NatsConnection, context: TransportContext): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.buffer.down = true;
        const stalled = this.stalls.explain();
        if (stalled !== undefined) this.log(stalled.message);
        context.status(
          stalled === undefined ? { state: "disconnected" } : { state: "disconnected", error: stalled },
        );
      } else if (status.type === "reconnecting") {
        context.status({ state: "reconnecting" });
      } else if (status.type === "reconnect") {
        this.buffer.release((subject, headers, body) => this.publish(subject, headers, body));
        context.status({ state: "connected", server: status.server });
      } else if (status.type === "error") {
        context.status({ state: "error", error: status.error });
      } else if (status.type === "close" && !this.closing) {
        // The client gave up reconnecting (maxReconnectAttempts): nothing held will ever go out,
        // and a publish from now on must fail rather than wait in the buffer.
        const reason = "the connection is closed: the client stopped reconnecting (maxReconnectAttempts)";
        const dropped = this.buffer.closeForGood(reason);
        this.log(`${reason}; ${dropped} held publish(es) dropped`);
        context.status({ state: "closed", error: new TransportError(`[EventBus:nats] ${reason}`) });
      }
    }
  }

  private connection(): NatsConnection {
    if (this.nc === undefined) throw new TransportError("[EventBus:nats] not connected");
    return this.nc;
  }

  private modules(): NatsModules {
    if (this.client === undefined) throw new TransportError("[EventBus:nats] not connected");
    return this.client;
  }

  private log(message: string): void {
    this.context?.log(message);
  }
}

function mapRequestError(error: unknown, eventType: string, timeout: number): Error {
  const failure = error as { name?: string; cause?: { name?: string }; isNoResponders?: () => boolean };
  if (failure.isNoResponders?.() === true || failure.cause?.name === "NoRespondersError")
    return new NoResponderError(eventType, { cause: error });
  if (failure.name === "TimeoutError" || failure.cause?.name === "TimeoutError")
    return new TimeoutError(eventType, timeout);
  return new TransportError(`[EventBus:nats] request "${eventType}" failed: ${String(error)}`, {
    cause: error,
  });
}

/** A promise and the function that resolves it. */
function settledBy<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
