/**
 * Redis specifics of the wire format. Redis messages have no headers, so an event travels as one
 * CloudEvents JSON document in structured mode: the attributes beside `data` (JSON) or
 * `data_base64` (raw bytes). Also the names of channels and keys, and the lazy client import.
 */
import type { Redis } from "ioredis";
import type { Envelope } from "../envelope.js";
import { PayloadError, TransportError } from "../errors.js";
import { isPattern } from "../patterns.js";
import { BYTES_TYPE, encodeJson, JSON_TYPE, TypeMismatchError } from "./_codec.js";

/** Attribute naming the publishing bus, so that a bus drops its own echoes. */
export const ORIGIN_ATTRIBUTE = "agentbusorigin";
/** Attribute of a request naming the channel its reply goes to. */
export const REPLY_TO_ATTRIBUTE = "agentbusreplyto";

/** An event read from the wire, with the transport's own attributes. */
export interface Decoded {
  readonly envelope: Envelope;
  readonly origin: string | undefined;
  readonly replyTo: string | undefined;
}

/**
 * Encodes an envelope as a structured-mode CloudEvent; throws PayloadError for data that cannot
 * cross or a document over maxBytes.
 */
export function encodeStructured(
  envelope: Envelope,
  attributes: Record<string, string>,
  maxBytes: number,
): string {
  const head: Record<string, string> = {
    specversion: "1.0",
    id: envelope.id,
    type: envelope.type,
    source: envelope.source,
    time: envelope.time,
  };
  if (envelope.correlationid !== undefined) head.correlationid = envelope.correlationid;
  if (envelope.traceparent !== undefined) head.traceparent = envelope.traceparent;
  const { data } = envelope;
  let tail = "";
  if (data instanceof Uint8Array) {
    head.datacontenttype = BYTES_TYPE;
    tail = `,"data_base64":"${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64")}"`;
  } else if (data !== undefined) {
    head.datacontenttype = JSON_TYPE;
    tail = `,"data":${encodeJson(envelope.type, data)}`;
  }
  Object.assign(head, attributes);
  // The data text is spliced in rather than re-serialized: it was produced by the strict encoder.
  const text = `${JSON.stringify(head).slice(0, -1)}${tail}}`;
  const size = text.length <= maxBytes / 3 ? text.length : Buffer.byteLength(text);
  if (size > maxBytes) {
    throw new PayloadError(
      envelope.type,
      `${size} bytes as a CloudEvent, over the limit of ${maxBytes} bytes`,
    );
  }
  return text;
}

function text(event: Record<string, unknown>, name: string): string | undefined {
  const value = event[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Rebuilds the envelope of a structured-mode CloudEvent; throws an Error saying what is wrong.
 * @param channelType the event type the message was addressed to (its channel without namespace)
 */
export function decodeStructured(message: string, channelType: string | undefined): Decoded {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch (error) {
    throw new Error(`not a JSON CloudEvent: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error("not a JSON object");
  const event = parsed as Record<string, unknown>;
  if (event.specversion !== "1.0")
    throw new Error(`specversion is ${JSON.stringify(event.specversion)}, not "1.0"`);
  const id = text(event, "id");
  const type = text(event, "type");
  const source = text(event, "source");
  if (id === undefined) throw new Error("id is missing");
  if (source === undefined) throw new Error("source is missing");
  if (type === undefined || (channelType !== undefined && type !== channelType))
    throw new TypeMismatchError(
      `type ${JSON.stringify(event.type)} does not match the channel's type "${channelType}"`,
      channelType ?? "",
      type,
    );
  let data: unknown = event.data;
  if ("data_base64" in event) {
    if (typeof event.data_base64 !== "string") throw new Error("data_base64 is not a string");
    data = new Uint8Array(Buffer.from(event.data_base64, "base64"));
  }
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    specversion: "1.0",
    id,
    type,
    source,
    time: text(event, "time") ?? new Date().toISOString(),
    data,
  };
  const contentType = text(event, "datacontenttype");
  if (contentType !== undefined) envelope.datacontenttype = contentType;
  const correlationid = text(event, "correlationid");
  if (correlationid !== undefined) envelope.correlationid = correlationid;
  const traceparent = text(event, "traceparent");
  if (traceparent !== undefined) envelope.traceparent = traceparent;
  return { envelope, origin: text(event, ORIGIN_ATTRIBUTE), replyTo: text(event, REPLY_TO_ATTRIBUTE) };
}

/** Channel and key names of one namespace. */
export class RedisNames {
  /** Stream of the events that some group or durable subscription wants. */
  readonly stream: string;
  /** Hash of those subscriptions (consumer group → route), and the channel announcing changes. */
  readonly routes: string;
  constructor(readonly namespace: string) {
    this.stream = `${namespace}:stream`;
    this.routes = `${namespace}:routes`;
  }

  event(eventType: string): string {
    return `${this.namespace}.${eventType}`;
  }

  /** The event type of a channel of this namespace. */
  typeOf(channel: string): string {
    return channel.slice(this.namespace.length + 1);
  }

  request(eventType: string): string {
    return `_rpc.${this.namespace}.${eventType}`;
  }

  inbox(origin: string): string {
    return `_inbox.${this.namespace}.${origin}`;
  }

  /** Key a request's responders race for, so that exactly one of them answers. */
  claim(requestId: string): string {
    return `${this.namespace}:rpc:${requestId}`;
  }

  /** Key marking an event id as stored in the stream (dedupe window). */
  seen(eventId: string): string {
    return `${this.namespace}:seen:${eventId}`;
  }

  /**
   * What to subscribe for a bus pattern: the exact channel, or a Redis glob that finds a superset
   * (a glob's `*` crosses dots) for the client to filter by tokens.
   */
  target(pattern: string): { readonly glob: boolean; readonly name: string } {
    if (!isPattern(pattern)) return { glob: false, name: this.event(pattern) };
    const glob = pattern
      .split(".")
      .map((token) => (token === "*" || token === ">" ? "*" : token.replace(/[\\*?[\]]/gu, "\\$&")))
      .join(".");
    return { glob: true, name: this.event(glob) };
  }
}

export type RedisConstructor = new (url: string, options: Record<string, unknown>) => Redis;

/** Loads the optional client, with an error that says what to install. */
export async function loadClient(): Promise<RedisConstructor> {
  try {
    const module = await import("ioredis");
    return (module.Redis ?? module.default) as unknown as RedisConstructor;
  } catch (error) {
    throw new TransportError("[EventBus:redis] redisTransport needs the Redis client: npm install ioredis", {
      cause: error,
    });
  }
}
