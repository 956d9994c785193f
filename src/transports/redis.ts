/**
 * The Redis transport: events as structured-mode CloudEvents JSON on pub/sub channels
 * `<namespace>.<type>`, wildcard patterns as PSUBSCRIBE filtered by tokens, groups and durable
 * subscriptions as consumer groups on one stream per namespace, request/reply on inbox channels.
 * The client (`ioredis`) is an optional peer dependency, loaded when the transport connects.
 */
import type { Redis, RedisOptions } from "ioredis";
import type { Envelope } from "../envelope.js";
import { TransportError } from "../errors.js";
import { matches } from "../patterns.js";
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
import { createDeadLetter } from "./_deadletter.js";
import type { ConsumerOptions } from "./_redis-consumer.js";
import { Groups } from "./_redis-groups.js";
import { LiveSubscriptions } from "./_redis-live.js";
import { Routes } from "./_redis-routes.js";
import { Rpc } from "./_redis-rpc.js";
import {
  decodeStructured,
  encodeStructured,
  loadClient,
  ORIGIN_ATTRIBUTE,
  RedisNames,
} from "./_redis-wire.js";
import { assertNamespace } from "./memory.js";

/** Options of `redisTransport()`; every other option goes to ioredis (`username`, `password`, `tls`, ...). */
export interface RedisTransportOptions extends Omit<RedisOptions, "lazyConnect">, Partial<ConsumerOptions> {
  /**
   * Redis URL: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS.
   * @default "redis://127.0.0.1:6379"
   */
  url?: string;
  /**
   * First token of every channel and key: buses see only their namespace.
   * @default "agent-bus"
   */
  namespace?: string;
  /**
   * Largest event in bytes, as its CloudEvents JSON; bigger ones throw a PayloadError.
   * @default 1048576
   */
  maxPayload?: number;
  /**
   * Approximate cap of the namespace's stream (`XADD MAXLEN ~`): older entries are trimmed,
   * read or not.
   * @default 100000
   */
  maxLength?: number;
  /**
   * Milliseconds during which an event id already stored is not stored again (0: off).
   * @default 120000
   */
  duplicateWindow?: number;
  /**
   * While disconnected: "buffer" queues publishes in ioredis's offline queue and sends them on
   * reconnect; "reject" makes publish throw a TransportError.
   * @default "buffer"
   */
  disconnected?: "buffer" | "reject";
}

/**
 * A transport over a Redis server (6.2 or later).
 * @example
 * import { redisTransport } from "agent-bus/redis";
 * const bus = new EventBus({ transport: redisTransport({ url: "redis://127.0.0.1:6379", namespace: "demo" }) });
 * await bus.ready();
 */
export function redisTransport(options: RedisTransportOptions = {}): Transport {
  return new RedisTransport(options);
}

interface Encoded {
  readonly channel: string;
  readonly type: string;
  readonly id: string;
  readonly text: string;
}

const DEFAULT_URL = "redis://127.0.0.1:6379";

class RedisTransport implements Transport {
  readonly name = "redis";
  readonly capabilities: TransportCapabilities = { groups: true, durable: true, request: true };
  private readonly names: RedisNames;
  private readonly routes: Routes;
  private readonly maxPayload: number;
  private context: TransportContext | undefined;
  private command: Redis | undefined;
  private subscriber: Redis | undefined;
  private live: LiveSubscriptions | undefined;
  private rpc: Rpc | undefined;
  private groups: Groups | undefined;
  private closing = false;

  constructor(private readonly options: RedisTransportOptions) {
    const { namespace = "agent-bus", maxPayload = 1024 * 1024, maxLength = 100_000 } = options;
    const { duplicateWindow = 120_000, maxDeliver = 5, ackWait = 30_000, disconnected = "buffer" } = options;
    assertNamespace(namespace);
    positiveInteger("maxPayload", maxPayload);
    positiveInteger("maxLength", maxLength);
    positiveInteger("maxDeliver", maxDeliver);
    if (!(ackWait > 0))
      throw new TypeError(`ackWait must be a positive number of milliseconds, got ${ackWait}`);
    if (!(duplicateWindow >= 0))
      throw new TypeError(
        `duplicateWindow must be a non-negative number of milliseconds, got ${duplicateWindow}`,
      );
    if (disconnected !== "buffer" && disconnected !== "reject")
      throw new TypeError(`disconnected must be "buffer" or "reject", got ${JSON.stringify(disconnected)}`);
    this.names = new RedisNames(namespace);
    this.routes = new Routes(this.names, { maxLength, duplicateWindow });
    this.maxPayload = maxPayload;
  }

  async connect(context: TransportContext): Promise<void> {
    this.context = context;
    const Client = await loadClient();
    const {
      url = DEFAULT_URL,
      namespace: _n,
      maxPayload: _p,
      maxLength: _l,
      duplicateWindow: _w,
      disconnected: _d,
      maxDeliver = 5,
      ackWait = 30_000,
      ...client
    } = this.options;
    const settings = { maxRetriesPerRequest: null, ...client, lazyConnect: true };
    const command = new Client(url, { connectionName: `agent-bus:${this.names.namespace}`, ...settings });
    this.command = command;
    Routes.define(command);
    await this.open(command, url);
    this.watchStatus(command, context);
    const subscriber = command.duplicate();
    this.subscriber = subscriber;
    await this.open(subscriber, url);
    const log = (message: string) => this.log(message);
    this.live = new LiveSubscriptions(subscriber, log);
    this.rpc = new Rpc(this.names, command, this.live, context.origin, this.maxPayload, log);
    this.groups = new Groups(
      {
        command,
        names: this.names,
        routes: this.routes,
        origin: context.origin,
        connect: async (name) => {
          const connection = command.duplicate({ connectionName: `agent-bus:${name}` });
          await this.open(connection, url);
          return connection;
        },
        log,
        deadLetter: (envelope, consumer, deliveries, error) =>
          this.deadLetter(envelope, consumer, deliveries, error),
      },
      { maxDeliver, ackWait },
    );
    await this.followRoutes(command, subscriber);
    await this.rpc.start();
    context.status({ state: "connected", server: redact(url) });
  }

  encode(envelope: Envelope): Encoded {
    if (this.options.disconnected === "reject" && this.command?.status !== "ready") {
      throw new TransportError(
        `[EventBus:redis] publish of "${envelope.type}" refused: disconnected (disconnected: "reject")`,
      );
    }
    const text = encodeStructured(
      envelope,
      { [ORIGIN_ATTRIBUTE]: this.context?.origin ?? "" },
      this.maxPayload,
    );
    return { channel: this.names.event(envelope.type), type: envelope.type, id: envelope.id, text };
  }

  send(frame: unknown): void {
    const { channel, type, id, text } = frame as Encoded;
    const command = this.connection();
    // Only events some group or durable subscription wants pay for the stream.
    if (this.routes.wanted(type))
      this.routes.store(command, id, type, text).catch((error: unknown) => this.failed("store", type, error));
    command.publish(channel, text).catch((error: unknown) => this.failed("publish", type, error));
  }

  subscribe(pattern: string, options: RemoteSubscribeOptions, delivery: RemoteDelivery): RemoteSubscription {
    if (options.group !== undefined || options.durable !== undefined)
      return this.consumerGroups().subscribe(pattern, options, delivery);
    const live = this.live;
    if (live === undefined) throw new TransportError("[EventBus:redis] not connected");
    const { glob, name } = this.names.target(pattern);
    const origin = this.context?.origin;
    const listening = live.add(glob, name, (channel, message) => {
      const type = this.names.typeOf(channel);
      if (glob && !matches(pattern, type)) return;
      const decoded = this.decode(message, channel, type);
      if (decoded === undefined || decoded.origin === origin) return;
      const result = delivery(decoded.envelope);
      if (result !== undefined) result.catch(() => undefined);
    });
    return { ready: listening.ready, unsubscribe: () => listening.remove() };
  }

  request(envelope: Envelope, options: RemoteRequestOptions): Promise<unknown> {
    if (this.rpc === undefined) throw new TransportError("[EventBus:redis] not connected");
    return this.rpc.request(envelope, options);
  }

  respond(eventType: string, responder: RemoteResponder): RemoteSubscription {
    if (this.rpc === undefined) throw new TransportError("[EventBus:redis] not connected");
    return this.rpc.respond(eventType, responder);
  }

  async close(): Promise<void> {
    if (this.closing || this.command === undefined) return;
    this.closing = true;
    await this.groups?.close();
    this.rpc?.close();
    // QUIT is answered after every command sent before it: the publishes are then on the server.
    await Promise.all([quit(this.command), this.subscriber && quit(this.subscriber)]);
    this.context?.status({ state: "closed" });
  }

  /** Subscribes to route announcements, then loads the routes (again after each reconnect). */
  private async followRoutes(command: Redis, subscriber: Redis): Promise<void> {
    this.live?.add(false, this.names.routes, (_channel, message) => this.routes.heard(message));
    await this.routes.load(command);
    subscriber.on("ready", () => {
      this.routes.load(command).catch((error: unknown) => this.log(`routes not reloaded: ${String(error)}`));
    });
  }

  private async open(connection: Redis, url: string): Promise<void> {
    connection.on("error", () => undefined); // reported through the status events instead
    try {
      await connection.connect();
    } catch (error) {
      connection.disconnect();
      throw new TransportError(`[EventBus:redis] cannot connect to ${redact(url)}: ${String(error)}`, {
        cause: error,
      });
    }
  }

  private watchStatus(command: Redis, context: TransportContext): void {
    let lastError: unknown;
    command.on("error", (error: unknown) => {
      lastError = error;
    });
    command.on("close", () => {
      if (!this.closing) context.status({ state: "disconnected", error: lastError });
    });
    command.on("reconnecting", () => context.status({ state: "reconnecting", error: lastError }));
    command.on("ready", () =>
      context.status({ state: "connected", server: redact(this.options.url ?? DEFAULT_URL) }),
    );
  }

  /** Publishes `bus.deadletter` with the event, the consumer and the error. */
  private deadLetter(envelope: Envelope, consumer: string, deliveries: number, error: unknown): void {
    const letter = createDeadLetter(envelope, consumer, deliveries, error);
    // Another origin than the bus's own, so that this bus's subscribers see it too.
    const text = encodeStructured(
      letter,
      { [ORIGIN_ATTRIBUTE]: `${this.context?.origin}:deadletter` },
      Infinity,
    );
    this.send({
      channel: this.names.event(letter.type),
      type: letter.type,
      id: letter.id,
      text,
    } satisfies Encoded);
    this.log(
      `dead-lettered "${envelope.type}" ${envelope.id} after ${deliveries} deliveries to "${consumer}"`,
    );
  }

  private decode(message: string, channel: string, type: string) {
    try {
      return decodeStructured(message, type);
    } catch (error) {
      this.log(`dropped a malformed message on "${channel}": ${(error as Error).message}`);
      return undefined;
    }
  }

  private failed(operation: string, type: string, error: unknown): void {
    if (!this.closing) this.log(`${operation} of "${type}" failed: ${String(error)}`);
  }

  private connection(): Redis {
    if (this.command === undefined) throw new TransportError("[EventBus:redis] not connected");
    return this.command;
  }

  private consumerGroups(): Groups {
    if (this.groups === undefined) throw new TransportError("[EventBus:redis] not connected");
    return this.groups;
  }

  private log(message: string): void {
    this.context?.log(message);
  }
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

async function quit(connection: Redis): Promise<void> {
  await connection.quit().catch(() => connection.disconnect());
}
