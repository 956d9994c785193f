/**
 * The wire format every transport shares: CloudEvents binary mode, the attributes in headers
 * (`ce-id`, `ce-type`, ...) and the data alone in the body, JSON or raw bytes. One format means
 * a program behaves the same in memory, across worker threads and over NATS.
 */
import type { Envelope } from "../envelope.js";
import * as errors from "../errors.js";
import { type AgentBusError, describeError, PayloadError } from "../errors.js";
import type { TransportContext } from "../transport.js";

/** Header names and values of one message. */
export type WireHeaders = Record<string, string>;

/**
 * One event as it crosses a wire. Brokers carry bytes; between threads and in memory the JSON
 * text itself crosses (`FrameBody` of `string`): a string is cloned by a MessagePort far more
 * cheaply than an ArrayBuffer and needs no UTF-8 round trip.
 */
export interface WireFrame<Body extends FrameBody = Uint8Array> {
  readonly headers: WireHeaders;
  readonly body: Body;
}

/** What a frame's body may be: UTF-8 bytes, or the JSON (or text) itself. */
export type FrameBody = Uint8Array | string;

/**
 * Header that carries the publishing bus's id, so a transport can drop its own echoes. Left out
 * when the event id shows the origin already (`isEcho`): ~60 of ~250 header bytes an event.
 */
export const ORIGIN_HEADER = "ce-agentbusorigin";

/** Who sends a frame: the bus's origin, and the prefix of the ids it generates when known. */
export type OriginStamp = Pick<TransportContext, "origin" | "idPrefix">;

/** Whether a frame of this id must name its origin: not when the id is one the sender made. */
function needsOrigin(id: string, stamp: OriginStamp): boolean {
  const { idPrefix } = stamp;
  if (idPrefix === undefined || idPrefix === "") return true;
  // Not startsWith: a bus's ids are concatenations (V8 cons strings), which startsWith reads a
  // character at a time through the concatenation, ~2,000 instructions for a 37-character prefix
  // (callgrind, a NATS publisher). slice flattens the id once, which writing it out needs anyway,
  // and the comparison of two flat strings is a block compare.
  return id.slice(0, idPrefix.length) !== idPrefix;
}

/**
 * The attributes a received frame's headers carry, by name: read once, then used by `isEcho` and
 * `decodeFrame` as plain fields (a lookup by header name per use was ~1,200 instructions an event
 * on a NATS subscriber, callgrind). Undefined where the header is missing.
 */
export interface FrameAttributes {
  readonly specversion: string | undefined;
  readonly id: string | undefined;
  readonly type: string | undefined;
  readonly source: string | undefined;
  readonly time: string | undefined;
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
  readonly correlationid: string | undefined;
  readonly traceparent: string | undefined;
}

/** The attributes of a frame, read through a header lookup. */
export function attributesOf(header: (name: string) => string | undefined): FrameAttributes {
  return attributesFrom([
    header("ce-specversion"),
    header("ce-id"),
    header("ce-type"),
    header("ce-source"),
    header("ce-time"),
    header(ORIGIN_HEADER),
    header("content-type"),
    header("ce-correlationid"),
    header("ce-traceparent"),
  ]);
}

/** The attributes of header values held in `FRAME_HEADERS` order. */
export function attributesFrom(values: readonly (string | undefined)[]): FrameAttributes {
  return {
    specversion: values[0],
    id: values[1],
    type: values[2],
    source: values[3],
    time: values[4],
    origin: values[5],
    contentType: values[6],
    correlationid: values[7],
    traceparent: values[8],
  };
}

/** The attributes of a frame without headers: every one missing. */
export const NO_ATTRIBUTES: FrameAttributes = attributesFrom([]);

/**
 * Whether a received frame is this bus's own echo: its origin header names this bus or, without
 * one, its id begins with this bus's id prefix.
 */
export function isEcho(attributes: FrameAttributes, self: OriginStamp): boolean {
  const { origin } = attributes;
  if (origin !== undefined) return origin === self.origin;
  const { id } = attributes;
  const { idPrefix } = self;
  // A received id is a piece of the decoded header text, not a concatenation: startsWith reads
  // it directly, where slice would make a new string for the comparison.
  return id !== undefined && idPrefix !== undefined && idPrefix !== "" && id.startsWith(idPrefix);
}
/**
 * The headers `encodeFrame` may write: the first five always, the rest when the event has them
 * (the origin only when the id does not show it). Indexes of `attributesFrom`; the frame itself
 * is in `encodeFrame`'s order.
 */
export const FRAME_HEADERS = [
  "ce-specversion",
  "ce-id",
  "ce-type",
  "ce-source",
  "ce-time",
  ORIGIN_HEADER,
  "content-type",
  "ce-correlationid",
  "ce-traceparent",
] as const;
/** How many of `FRAME_HEADERS` every frame has. */
export const ALWAYS_WRITTEN = 5;

export const JSON_TYPE = "application/json";
export const BYTES_TYPE = "application/octet-stream";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

function withArticle(noun: string): string {
  return `${/^[aeiou]/iu.test(noun) ? "an" : "a"} ${noun}`;
}

function refuse(value: unknown, key: string): never {
  const where = key === "" ? "" : ` at key ${JSON.stringify(key)}`;
  const what =
    typeof value === "function"
      ? "a function"
      : typeof value === "bigint"
        ? "a BigInt (send it as a string)"
        : typeof value === "symbol"
          ? "a symbol"
          : value instanceof Error
            ? `${withArticle(value.name)} (it would arrive as {}: send its name and message)`
            : `${withArticle((value as object).constructor?.name ?? "non-plain object")} (it would arrive as {})`;
  throw new Error(`${what}${where} is not JSON data`);
}

/** Refuses what JSON would silently drop or mangle, rather than deliver something else. */
function strict(this: unknown, key: string, value: unknown): unknown {
  const kind = typeof value;
  if (kind === "function" || kind === "bigint" || kind === "symbol") refuse(value, key);
  if (
    value instanceof Map ||
    value instanceof Set ||
    value instanceof WeakMap ||
    value instanceof WeakSet ||
    value instanceof Promise ||
    // Their fields are not enumerable: an error's message, a pattern's source would be lost.
    value instanceof Error ||
    value instanceof RegExp ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer
  ) {
    refuse(value, key);
  }
  return value;
}

/** Nesting beyond which `isPlainData` leaves the data to the strict path (which reports cycles). */
const PLAIN_DEPTH = 64;

/**
 * True when the strict replacer would let every value through unchanged: only strings, numbers,
 * booleans, null and undefined, in arrays and objects whose prototype is Object's (or none), and
 * no toJSON anywhere, whose result the replacer would then check.
 */
function isPlainData(value: unknown, depth: number): boolean {
  if (typeof value !== "object") {
    const kind = typeof value;
    return kind === "string" || kind === "number" || kind === "boolean" || kind === "undefined";
  }
  if (value === null) return true;
  if (depth >= PLAIN_DEPTH || "toJSON" in value) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) if (!isPlainData(value[i], depth + 1)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (!isPlainData((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

/** How the JSON text of the data becomes a frame's body. */
export type TextToBody<Body extends FrameBody> = (text: string) => Body;
/** UTF-8 bytes of a text. */
export type TextToBytes = TextToBody<Uint8Array>;

const utf8: TextToBytes = (text) => encoder.encode(text);
/** The JSON text as the body, for links that carry strings. */
export const asText: TextToBody<string> = (text) => text;

/**
 * Encodes the data: raw bytes untouched, anything else as strict JSON; throws PayloadError.
 * @param toBody how the JSON text becomes the body (UTF-8 bytes by default; a transport may
 * have a faster way, or carry the text itself)
 */
export function encodeBody<Body extends FrameBody = Uint8Array>(
  eventType: string,
  data: unknown,
  toBody: TextToBody<Body> = utf8 as TextToBody<Body>,
): { body: Body | Uint8Array; contentType?: string } {
  if (data === undefined) return { body: EMPTY };
  // A copy, so that the publisher changing its array after publish() changes nothing in flight.
  if (data instanceof Uint8Array) return { body: data.slice(), contentType: BYTES_TYPE };
  return { body: toBody(encodeJson(eventType, data)), contentType: JSON_TYPE };
}

/** Data as strict JSON text (anything but raw bytes); throws PayloadError for what JSON would mangle. */
export function encodeJson(eventType: string, data: unknown): string {
  // Plain data, the usual case, needs no replacer: JSON.stringify runs several times faster
  // without one (publish over NATS 3.9 → 3.2 µs of CPU, see bench/transports).
  try {
    // Inside the try: reading the data may run its getters (or a proxy's traps), which may throw.
    if (isPlainData(data, 0)) return JSON.stringify(data);
    return JSON.stringify(data, strict);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const cycle = /circular/iu.test(reason);
    throw new PayloadError(eventType, cycle ? "it contains a cycle" : reason, { cause: error });
  }
}

/** Decodes a body by its content type; throws on bytes (or text) that do not match it. */
export function decodeBody(body: FrameBody, contentType: string | undefined): unknown {
  // What agent-bus itself sends, without parsing the media type.
  if (contentType === JSON_TYPE) return JSON.parse(asString(body));
  if (contentType === undefined || contentType === "") {
    return body.length === 0 ? undefined : JSON.parse(asString(body));
  }
  const media = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (media === JSON_TYPE || media.endsWith("+json")) return JSON.parse(asString(body));
  if (media.startsWith("text/")) return asString(body);
  if (typeof body === "string") throw new Error(`a text body cannot be ${media}`);
  return body.slice();
}

/** The text of a body: as it came, or decoded from strict UTF-8. */
function asString(body: FrameBody): string {
  return typeof body === "string" ? body : decoder.decode(body);
}

/** UTF-8 length of a text, without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
      continue;
    }
    // 3 bytes for one unit, or 4 for a surrogate pair's two.
    bytes += 2;
    const low = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code < 0xdc00 && low >= 0xdc00 && low < 0xe000) i++;
  }
  return bytes;
}

/** Bytes of the five headers every frame has, but for the values of all but the version. */
const REQUIRED_HEADER_BYTES = FRAME_HEADERS.slice(0, ALWAYS_WRITTEN).reduce(
  (sum, name) => sum + name.length + 4,
  "1.0".length,
);

/** Builds the frame of an envelope; throws PayloadError when it cannot cross or exceeds maxBytes. */
export function encodeFrame<Body extends FrameBody = Uint8Array>(
  envelope: Envelope,
  stamp: OriginStamp,
  maxBytes: number,
  toBody: TextToBody<Body> = utf8 as TextToBody<Body>,
): WireFrame<Body | Uint8Array> {
  const { body, contentType } = encodeBody(envelope.type, envelope.data, toBody);
  const { id, type, source, time, correlationid, traceparent } = envelope;
  const origin = needsOrigin(id, stamp) ? stamp.origin : undefined;
  let headers: WireHeaders;
  // What a publisher repeats first (version, type, source, origin, content type), then what
  // changes with each event (id, time, and the optional rest): a writer and a reader of a header
  // block can keep the lines up to the id from one event to the next (see _nats-wire.ts).
  // The usual frame in one literal: each header added to an object afterwards is a change of its
  // shape, which V8 looks up among the shapes it made before (callgrind, a NATS publisher).
  if (
    origin === undefined &&
    contentType !== undefined &&
    correlationid === undefined &&
    traceparent === undefined
  ) {
    headers = {
      "ce-specversion": "1.0",
      "ce-type": type,
      "ce-source": source,
      "content-type": contentType,
      "ce-id": id,
      "ce-time": time,
    };
  } else {
    headers = { "ce-specversion": "1.0", "ce-type": type, "ce-source": source };
    if (origin !== undefined) headers[ORIGIN_HEADER] = origin;
    if (contentType !== undefined) headers["content-type"] = contentType;
    headers["ce-id"] = id;
    headers["ce-time"] = time;
    if (correlationid !== undefined) headers["ce-correlationid"] = correlationid;
    if (traceparent !== undefined) headers["ce-traceparent"] = traceparent;
  }
  // Each header is its name, its value and 4 bytes (": " and CRLF), summed without walking them.
  let size = REQUIRED_HEADER_BYTES + id.length + type.length + source.length + time.length;
  if (origin !== undefined) size += ORIGIN_HEADER.length + 4 + origin.length;
  if (contentType !== undefined) size += "content-type".length + 4 + contentType.length;
  if (correlationid !== undefined) size += "ce-correlationid".length + 4 + correlationid.length;
  if (traceparent !== undefined) size += "ce-traceparent".length + 4 + traceparent.length;
  // A text body's UTF-8 length is counted only when it could matter: at most 3 bytes a unit.
  size += typeof body === "string" && size + 3 * body.length > maxBytes ? utf8Length(body) : body.length;
  if (size > maxBytes) {
    throw new PayloadError(envelope.type, `${size} bytes with headers, over the limit of ${maxBytes} bytes`);
  }
  return { headers, body };
}

/**
 * Throws a PayloadError naming the request's type when a reply's body is over the transport's
 * limit: a reply is held to the limit of an event, and refused where it can be said what it was.
 */
export function assertReplySize(
  eventType: string,
  body: string | Uint8Array,
  maxBytes: number,
  limit = `the limit of ${maxBytes} bytes`,
): void {
  const size = typeof body === "string" && 3 * body.length > maxBytes ? utf8Length(body) : body.length;
  if (size > maxBytes) throw new PayloadError(eventType, `the reply is ${size} bytes, over ${limit}`);
}

/**
 * A message whose own type is not the one its subject or channel addressed. Thrown by the
 * decoders, so that a transport can tell another namespace's event from a malformed one.
 */
export class TypeMismatchError extends Error {
  constructor(
    message: string,
    /** The type the subject or channel names, read from this bus's namespace. */
    readonly addressedType: string,
    /** The type the message itself carries. */
    readonly ownType: unknown,
  ) {
    super(message);
    this.name = "TypeMismatchError";
  }

  /**
   * True when the message belongs to a namespace nested in this one, or to one this one nests in.
   * Such namespaces share subjects and channels: read from `a`, the event `task` of namespace
   * `a.b` is addressed to `b.task`; read from `a.b`, the event `b.task` of `a` is addressed to
   * `task`. Either way it is another namespace's event, skipped without a word, not a malformed one.
   */
  get fromOtherNamespace(): boolean {
    const own = this.ownType;
    if (typeof own !== "string" || own === "") return false;
    const addressed = this.addressedType;
    return addressed.endsWith(`.${own}`) || own.endsWith(`.${addressed}`);
  }
}

/** True for a decoding error that means another namespace's event (see `fromOtherNamespace`). */
export function isOtherNamespaceEvent(error: unknown): boolean {
  return error instanceof TypeMismatchError && error.fromOtherNamespace;
}

/**
 * Rebuilds the envelope of a received message; throws an Error saying what is wrong with it.
 * @param subjectType the event type the message was addressed to (its subject without namespace)
 */
export function decodeFrame(subjectType: string, attributes: FrameAttributes, body: unknown): Envelope {
  if (!(body instanceof Uint8Array) && typeof body !== "string")
    throw new Error("the body is neither bytes nor text");
  const { specversion, id, type, source, contentType } = attributes;
  if (specversion !== "1.0") throw new Error(`ce-specversion is ${JSON.stringify(specversion)}, not "1.0"`);
  if (!id) throw new Error("ce-id is missing");
  if (!source) throw new Error("ce-source is missing");
  if (type !== subjectType) {
    throw new TypeMismatchError(
      `ce-type ${JSON.stringify(type)} does not match the subject's type "${subjectType}"`,
      subjectType,
      type,
    );
  }
  let data: unknown;
  try {
    data = decodeBody(body, contentType);
  } catch (error) {
    throw new Error(`the body is not valid ${contentType ?? JSON_TYPE}: ${String(error)}`);
  }
  const time = attributes.time || new Date().toISOString();
  // Built whole, with or without the content type: adding it afterwards took a shape transition
  // an event (a search of the transitions V8 keeps, ~400 instructions, callgrind).
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = contentType
    ? { specversion: "1.0", id, type, source, time, data, datacontenttype: contentType }
    : { specversion: "1.0", id, type, source, time, data };
  const { correlationid, traceparent } = attributes;
  if (correlationid) envelope.correlationid = correlationid;
  if (traceparent) envelope.traceparent = traceparent;
  return envelope;
}

/** A header value as read from an untrusted record: text, or missing. */
function textOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * The attributes of a frame whose shape is not trusted yet. Read by fixed names, which V8 loads
 * straight from the record's shape (a port's frames all have one), not through a lookup by name.
 */
export function frameAttributes(frame: unknown): FrameAttributes {
  const headers = (frame as { headers?: unknown } | null)?.headers;
  if (typeof headers !== "object" || headers === null) return NO_ATTRIBUTES;
  const h = headers as Record<string, unknown>;
  return {
    specversion: textOf(h["ce-specversion"]),
    id: textOf(h["ce-id"]),
    type: textOf(h["ce-type"]),
    source: textOf(h["ce-source"]),
    time: textOf(h["ce-time"]),
    origin: textOf(h[ORIGIN_HEADER]),
    contentType: textOf(h["content-type"]),
    correlationid: textOf(h["ce-correlationid"]),
    traceparent: textOf(h["ce-traceparent"]),
  };
}

/** Error data that crosses the wire in a failed reply. */
export interface WireError {
  readonly name: string;
  readonly message: string;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  // describeError: a thrown plain object as its JSON, not "[object Object]".
  return { name: "Error", message: describeError(error) };
}

/**
 * agent-bus's own error classes by name (each class's name is its instances' `name`): one that
 * crossed the wire is rebuilt as an instance of its class.
 */
const OWN_ERRORS = new Map(
  Object.values(errors)
    .filter(
      (value): value is typeof AgentBusError =>
        typeof value === "function" && value.prototype instanceof Error,
    )
    .map((type) => [type.name, type.prototype] as const),
);

/**
 * Rebuilds a responder's error on the requesting side, with the same name and message; one of
 * agent-bus's own (a PayloadError the reply could not cross as) is an instance of its class, so
 * that `instanceof` works as it does for a local responder.
 */
export function fromWireError(error: WireError, eventType: string): Error {
  const rebuilt = new Error(error.message, { cause: { remote: true, eventType } });
  const own = OWN_ERRORS.get(error.name);
  rebuilt.name = error.name;
  if (own === undefined) return rebuilt;
  Object.setPrototypeOf(rebuilt, own);
  // Their fields, from the message that carries them: the type the responder's own call was
  // about (its first quoted name), else the request's; a timeout's milliseconds.
  const fields = rebuilt as unknown as { eventType?: string; timeout?: number };
  fields.eventType = /"([^"]*)"/u.exec(error.message)?.[1] ?? eventType;
  const timeout = /after (\d+) ms/u.exec(error.message)?.[1];
  if (timeout !== undefined) fields.timeout = Number(timeout);
  return rebuilt;
}
