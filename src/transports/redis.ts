/**
 * The Redis transport: events as structured-mode CloudEvents JSON on pub/sub channels
 * `<namespace>.<type>`, wildcard patterns as PSUBSCRIBE filtered by tokens, groups and durable
 * subscriptions as consumer groups on one stream per namespace, request/reply on inbox channels.
 * The client (`ioredis`) is an optional peer dependency, loaded when the transport connects.
 */
import type { Redis } from "ioredis";
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
import { isOtherNamespaceEvent } from "./_codec.js";
import { createDeadLetter } from "./_deadletter.js";
import { followStatus, open, quit, redact } from "./_redis-connection.js";
import { Groups } from "./_redis-groups.js";
import { LiveSubscriptions } from "./_redis-live.js";
import { type RedisTransportOptions, resolve, type Settings } from "./_redis-options.js";
import { Routes } from "./_redis-routes.js";
import { Rpc } from "./_redis-rpc.js";
import {
  type Decoded,
  decodeStructured,
  encodeStructured,
  loadClient,
  ORIGIN_ATTRIBUTE,
  RedisNames,
} from "./_redis-wire.js";

export type { RedisTransportOptions } from "./_redis-options.js";

/** When the route hash is read again after a reconnect, see `followRoutes`. */
const RELOAD_AFTER_READY_MS = 1000;

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
  /** Its UTF-8 length when it goes to the offline queue, else 0. */
  readonly bytes: number;
}

class RedisTransport implements Transport {
  readonly name = "redis";
  readonly capabilities: TransportCapabilities = { groups: true, durable: true, request: true };
  private readonly names: RedisNames;
  private readonly routes: Routes;
  private readonly settings: Settings;
  private context: TransportContext | undefined;
  private command: Redis | undefined;
  private subscriber: Redis | undefined;
  private live: LiveSubscriptions | undefined;
  private rpc: Rpc | undefined;
  private groups: Groups | undefined;
  private closing = false;
  /** Publishes handed to ioredis's offline queue since the connection was lost. */
  private queued = 0;
  /** Their bytes, held against `bufferBytes`. */
  private queuedBytes = 0;

  /** Aborted by `abandon`: a connect waiting for the server gives up. */
  private readonly connecting = new AbortController();

  constructor(options: RedisTransportOptions) {
    this.settings = resolve(options);
    this.names = new RedisNames(this.settings.namespace);
    this.routes = new Routes(this.names, this.settings);
  }

  async connect(context: TransportContext): Promise<void> {
    this.context = context;
    const Client = await loadClient();
    const { url, client } = this.settings;
    const settings = { maxRetriesPerRequest: null, ...client, lazyConnect: true };
    const command = new Client(url, { connectionName: `agent-bus:${this.names.namespace}`, ...settings });
    this.command = command;
    Routes.define(command);
    await open(command, url, this.settings.waitOnFirstConnect ? this.connecting.signal : undefined);
    followStatus(command, url, context, () => this.closing);
    command.on("ready", () => {
      this.queued = 0;
      this.queuedBytes = 0;
    });
    const subscriber = command.duplicate();
    this.subscriber = subscriber;
    await open(subscriber, url);
    const log = (message: string) => this.log(message);
    this.live = new LiveSubscriptions(subscriber, log);
    this.rpc = new Rpc(this.names, command, this.live, context.origin, this.settings.maxPayload, log);
    this.groups = this.createGroups(command, url, context.origin);
    await this.followRoutes(command, subscriber);
    await this.rpc.start();
    context.status({ state: "connected", server: redact(url) });
  }

  encode(envelope: Envelope): Encoded {
    if (this.settings.disconnected === "reject" && this.command?.status !== "ready") {
      throw new TransportError(
        `[EventBus:redis] publish of "${envelope.type}" refused: disconnected (disconnected: "reject")`,
      );
    }
    const text = encodeStructured(
      envelope,
      { [ORIGIN_ATTRIBUTE]: this.context?.origin ?? "" },
      this.settings.maxPayload,
    );
    const bytes = this.offlineBytes(text);
    if (this.queuedBytes + bytes > this.settings.bufferBytes) {
      throw new TransportError(
        `[EventBus:redis] publish of "${envelope.type}" refused: disconnected and the offline queue holds ${this.queuedBytes} of ${this.settings.bufferBytes} bytes (bufferBytes)`,
      );
    }
    return { channel: this.names.event(envelope.type), type: envelope.type, id: envelope.id, text, bytes };
  }

  send(frame: unknown): void {
    const { channel, type, id, text, bytes } = frame as Encoded;
    const command = this.connection();
    if (command.status !== "ready") {
      this.queued++;
      this.queuedBytes += bytes;
    }
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

  abandon(): void {
    this.connecting.abort();
    this.command?.disconnect();
  }

  async close(): Promise<void> {
    if (this.closing || this.command === undefined) return;
    this.closing = true;
    await this.groups?.close();
    this.rpc?.close();
    const [sent] = await Promise.all([quit(this.command), this.subscriber && quit(this.subscriber)]);
    if (!sent && this.queued > 0)
      this.log(
        `closed while disconnected: ${this.queued} publishes made since the connection was lost were dropped`,
      );
    this.context?.status({ state: "closed" });
  }

  private createGroups(command: Redis, url: string, origin: string): Groups {
    const context = {
      command,
      names: this.names,
      routes: this.routes,
      origin,
      connect: async (name: string) => {
        // CLIENT SETNAME refuses spaces and newlines (and ioredis ignores the refusal).
        const connectionName = `agent-bus:${this.names.namespace}:${name}`.replace(/[^\x21-\x7e]/gu, "_");
        const connection = command.duplicate({ connectionName });
        await open(connection, url);
        return connection;
      },
      log: (message: string) => this.log(message),
      deadLetter: (envelope: Envelope, consumer: string, deliveries: number, error: unknown) =>
        this.deadLetter(envelope, consumer, deliveries, error),
    };
    return new Groups(context, this.settings);
  }

  /** Subscribes to route announcements, then loads the routes (again after each reconnect). */
  private async followRoutes(command: Redis, subscriber: Redis): Promise<void> {
    // Subscribed before the hash is read, so that no route announced in between is missed.
    await this.live?.add(false, this.names.routes, (_channel, message) => this.routes.heard(message)).ready;
    await this.routes.load(command);
    const reload = () => {
      if (this.closing) return;
      this.routes.load(command).catch((error: unknown) => {
        if (!this.closing) this.log(`routes not reloaded: ${String(error)}`);
      });
    };
    subscriber.on("ready", () => {
      reload();
      // "ready" comes before the server confirmed the resubscription to announcements: a route
      // announced in between is missed by both, so the hash is read once more a moment later.
      setTimeout(reload, RELOAD_AFTER_READY_MS).unref();
    });
  }

  /** The bytes a text adds to the offline queue: 0 while connected, so a publish then pays nothing for the cap. */
  private offlineBytes(text: string): number {
    const command = this.command;
    return command === undefined || command.status === "ready" ? 0 : Buffer.byteLength(text);
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
      // Counted, never refused: the failed event it reports is acknowledged once it is sent.
      bytes: this.offlineBytes(text),
    } satisfies Encoded);
    this.log(
      `dead-lettered "${envelope.type}" ${envelope.id} after ${deliveries} deliveries to "${consumer}"`,
    );
  }

  private decode(message: string, channel: string, type: string): Decoded | undefined {
    try {
      return decodeStructured(message, type);
    } catch (error) {
      if (isOtherNamespaceEvent(error)) return undefined;
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
