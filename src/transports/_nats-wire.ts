/**
 * NATS specifics of the wire format: subjects, the lazy client import, header conversion and
 * the buffer that holds publishes while the connection is down.
 */
// Imported, not the global: Node's global Buffer is a getter, run on every use.
import { Buffer } from "node:buffer";
import type { Msg, MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { TransportError } from "../errors.js";
import {
  attributesFrom,
  attributesOf,
  BYTES_TYPE,
  FRAME_HEADERS,
  type FrameAttributes,
  JSON_TYPE,
  NO_ATTRIBUTES,
  ORIGIN_HEADER,
  type WireHeaders,
} from "./_codec.js";

/** Subject prefix of requests, apart from events so that `<namespace>.>` never sees them. */
export const REQUEST_PREFIX = "_rpc";
/** Queue group of responders: each request goes to one of them. */
export const RESPONDER_QUEUE = "agent-bus-responders";
/** Reply header naming the error a responder failed with; the body is its message. */
export const ERROR_HEADER = "agentbus-error";

export interface NatsModules {
  connect(options: NodeConnectionOptions): Promise<NatsConnection>;
  headers(): MsgHdrs;
}

/**
 * UTF-8 bytes of a text for the client, which copies them into its outbound buffer at once.
 * `Buffer.from` takes small texts from Node's pool: ~0.1 µs against ~1 µs for
 * `TextEncoder.encode`, which allocates a new ArrayBuffer each time (see bench/transports).
 * Not for frames that cross a MessagePort: a pooled Buffer would clone its whole 8 KiB pool.
 */
export function toBuffer(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}

/**
 * The client's `headers()`, encoding the header block with `toBuffer` rather than its
 * `TextEncoder`: the same bytes (both write U+FFFD for a lone surrogate), a microsecond less per
 * publish. Everything else is the client's own class; the plain `headers()` when its shape is not
 * the one this was written for.
 */
function utf8Headers(make: () => MsgHdrs): () => MsgHdrs {
  const Base = Object.getPrototypeOf(make())?.constructor as (new () => MsgHdrs) | undefined;
  if (typeof Base !== "function" || typeof Base.prototype.encode !== "function") return make;
  if (!Object.hasOwn(Base.prototype, "toString")) return make;
  class Utf8Headers extends Base {
    encode(): Uint8Array {
      return toBuffer(this.toString());
    }
  }
  return () => new Utf8Headers();
}

/** Loads the optional client, with an error that says what to install. */
export async function loadClient(): Promise<NatsModules> {
  try {
    const module = await import("@nats-io/transport-node");
    return { connect: module.connect, headers: utf8Headers(module.headers) };
  } catch (error) {
    throw new TransportError(
      "[EventBus:nats] natsTransport needs the NATS client: npm install @nats-io/transport-node (and @nats-io/jetstream for durable subscriptions)",
      { cause: error },
    );
  }
}

/** Two searches, cheaper than the client's regular expression on these short texts. */
function hasCrOrLf(value: string): boolean {
  return value.indexOf("\n") >= 0 || value.indexOf("\r") >= 0;
}

/** A value the client's `set()` would store unchanged: no CR or LF, nothing to trim. */
function storedAsIs(value: string): boolean {
  return !hasCrOrLf(value) && value.trim() === value;
}

/**
 * The client's headers of a record. Hand-tuned for the publish path: the client's `set()` scans
 * every header already set and runs a regular expression per value (~2 µs of the ~6 µs a publish
 * costs, see bench/transports), so the values it would store unchanged go straight into its map,
 * in the same order; anything else takes `set()`, which validates (and throws) as always.
 */
export function toHeaders(make: () => MsgHdrs, record: WireHeaders): MsgHdrs {
  const headers = make();
  const map = (headers as { headers?: unknown }).headers;
  if (map instanceof Map && map.size === 0) {
    let plain = true;
    for (const name in record) plain &&= storedAsIs(record[name] as string);
    if (plain) {
      for (const name in record) map.set(name, [record[name] as string]);
      return headers;
    }
  }
  for (const name in record) headers.set(name, record[name] as string);
  return headers;
}

/**
 * Headers handed to the client's publish already encoded. Its publish calls nothing but
 * `encode()` on them (nats-core 3; the conformance suite runs every publish through a real
 * server), so this skips its header map, the checks of its `set()` and its `toString()`.
 */
class EncodedHeaders {
  constructor(private readonly bytes: Uint8Array) {}

  encode(): Uint8Array {
    return this.bytes;
  }
}

/**
 * The headers of a publish: the block the client would write (values untrimmed: every decoder
 * trims them), built in one pass. A value with CR or LF takes `toHeaders`, whose `set()` refuses
 * it as always. ~0.7 µs less CPU per publish than `toHeaders` (docs/bench-transports.md).
 */
export function publishHeaders(make: () => MsgHdrs, record: WireHeaders): MsgHdrs {
  let block = "NATS/1.0";
  for (const name in record) {
    const value = record[name] as string;
    if (hasCrOrLf(value)) return toHeaders(make, record);
    block += `\r\n${name}: ${value}`;
  }
  // No headers: the client encodes none at all, not an empty block.
  if (block.length === 8) return toHeaders(make, record);
  return new EncodedHeaders(toBuffer(`${block}\r\n\r\n`)) as unknown as MsgHdrs;
}

/**
 * The type, source and time last found free of CR and LF. A publisher repeats them (one source,
 * a few types, a time shared by the events of a millisecond), and a repeated value is most often
 * the very same string, compared at once: six searches an event were ~600 instructions (callgrind).
 */
const clean = {
  type: "",
  source: "",
  time: "",
  holds(type: string, source: string, time: string): boolean {
    if (type !== this.type) {
      if (hasCrOrLf(type)) return false;
      this.type = type;
    }
    if (source !== this.source) {
      if (hasCrOrLf(source)) return false;
      this.source = source;
    }
    if (time !== this.time) {
      if (hasCrOrLf(time)) return false;
      this.time = time;
    }
    return true;
  },
};

/** One optional line of `frameHeaders`: empty when absent, undefined when it holds CR or LF. */
function optionalLine(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return "";
  return hasCrOrLf(value) ? undefined : `\r\n${name}: ${value}`;
}

/**
 * `publishHeaders` of a record `encodeFrame` made, whose names are those of `FRAME_HEADERS` in its
 * order: the lines written in that order from named reads, without walking the record (0.68–0.85
 * → 0.46–0.49 µs a block in a micro-benchmark; docs/bench-transports.md). A record missing one
 * of the five required names, or a value with CR or LF, takes `publishHeaders`.
 */
export function frameHeaders(make: () => MsgHdrs, record: WireHeaders): MsgHdrs {
  const specversion = record["ce-specversion"];
  const id = record["ce-id"];
  const type = record["ce-type"];
  const source = record["ce-source"];
  const time = record["ce-time"];
  // Searched for CR and LF: every value but the version and the content types encodeFrame
  // writes, which are compared whole instead (twelve searches were ~1,150 instructions an event,
  // callgrind, a NATS publisher).
  if (
    specversion !== "1.0" ||
    id === undefined ||
    type === undefined ||
    source === undefined ||
    time === undefined ||
    hasCrOrLf(id) ||
    !clean.holds(type, source, time)
  )
    return publishHeaders(make, record);
  const origin = optionalLine(ORIGIN_HEADER, record[ORIGIN_HEADER]);
  const written = record["content-type"];
  const contentType =
    written === JSON_TYPE || written === BYTES_TYPE
      ? `\r\ncontent-type: ${written}`
      : optionalLine("content-type", written);
  const correlationid = optionalLine("ce-correlationid", record["ce-correlationid"]);
  const traceparent = optionalLine("ce-traceparent", record["ce-traceparent"]);
  if (
    origin === undefined ||
    contentType === undefined ||
    correlationid === undefined ||
    traceparent === undefined
  )
    return publishHeaders(make, record);
  const block = `NATS/1.0\r\nce-specversion: ${specversion}\r\nce-id: ${id}\r\nce-type: ${type}\r\nce-source: ${source}\r\nce-time: ${time}${origin}${contentType}${correlationid}${traceparent}\r\n\r\n`;
  return new EncodedHeaders(toBuffer(block)) as unknown as MsgHdrs;
}

/** Header lookup on a received message; missing headers read as undefined. */
export function headerOf(headers: MsgHdrs | undefined): (name: string) => string | undefined {
  return (name) => {
    const value = headers?.get(name);
    return value === undefined || value === "" ? undefined : value;
  };
}

const HEADER_START = "NATS/1.0\r\n";
const textDecoder = new TextDecoder();

/** Indexes of the known names by length, so that a line's name is matched without slicing it out. */
const KNOWN_BY_LENGTH: number[][] = [];
for (const [index, name] of FRAME_HEADERS.entries()) {
  KNOWN_BY_LENGTH[name.length] ??= [];
  KNOWN_BY_LENGTH[name.length]?.push(index);
}

/** What the client keeps of a message: its bytes and where the header block ends. */
interface RawMsg {
  readonly _rdata?: unknown;
  readonly _msg?: { readonly hdr?: unknown };
}

/**
 * The attributes of a received message, as `attributesOf(headerOf(msg.headers))` reads them, but
 * from the header block itself when it can. The client's decoder appends each header after
 * scanning all the previous ones and its `get()` scans them again (~5 µs of the ~9 µs a delivery
 * cost, see bench/transports); this is one pass over the same text. A status line, or a known
 * value with a lone CR or LF, goes to the client's decoder.
 */
export function messageAttributes(msg: Msg): FrameAttributes {
  const { _rdata: data, _msg: parsed } = msg as unknown as RawMsg;
  const end = parsed?.hdr;
  if (!(data instanceof Uint8Array) || typeof end !== "number") return attributesOf(headerOf(msg.headers));
  if (end < 0) return NO_ATTRIBUTES;
  const text = blockText(data, end);
  return readOwnHeaders(text) ?? knownAttributes(text) ?? attributesOf(headerOf(msg.headers));
}

/** The attributes of any `NATS/1.0` block, by `readKnownHeaders`; undefined when the client must decide. */
function knownAttributes(text: string): FrameAttributes | undefined {
  const values = readKnownHeaders(text);
  if (values === undefined) return undefined;
  // An empty value reads as a missing one, as through the client's headers.
  for (let i = 0; i < values.length; i++) if (values[i] === "") values[i] = undefined;
  return attributesFrom(values);
}

/** Buffer's own UTF-8 decoder, when this Node has it under its long-standing name. */
const utf8Slice = (Buffer.prototype as { utf8Slice?: (start: number, end: number) => string }).utf8Slice;

/**
 * Bytes `start` to `end` of a Buffer as text, U+FFFD for bytes that are not UTF-8, as
 * `toString("utf8", start, end)` gives it but without its checks of the encoding's name and the
 * offsets (~400 instructions a call, twice an event: callgrind, a NATS subscriber).
 */
function utf8Text(data: Buffer, start: number, end: number): string {
  return utf8Slice === undefined ? data.toString("utf8", start, end) : utf8Slice.call(data, start, end);
}

/**
 * The header block as text. Node's own decoder on the client's Buffer saves the view that
 * `TextDecoder` needs; both put U+FFFD for bytes that are not UTF-8.
 */
function blockText(data: Uint8Array, end: number): string {
  return Buffer.isBuffer(data) ? utf8Text(data, 0, end) : textDecoder.decode(data.subarray(0, end));
}

/** One line of the block agent-bus writes; `.` stops at CR and LF, so a value holding one fails it. */
function ownLine(name: string, value = "(.*)"): string {
  return `${name}: ?${value}\\r\\n`;
}

/**
 * The block `encodeFrame` and `publishHeaders` write (`FRAME_HEADERS` in order, the first
 * `ALWAYS_WRITTEN` present, nothing else), matched at once: V8's compiled expression beats
 * scanning the lines in JS (2,900 instructions a block against 6,300 for the best scan tried,
 * counted by callgrind on a single-threaded node). The version and a JSON content type are
 * matched as text and read as this module's constants: comparing a decoded copy with a constant
 * takes V8's runtime, ~150 instructions, where the same string compares at once. Any other block
 * takes the general scan.
 */
const OWN_BLOCK = new RegExp(
  [
    "^NATS/1\\.0\\r\\n",
    ownLine("ce-specversion", "1\\.0"),
    ownLine("ce-id"),
    ownLine("ce-type"),
    ownLine("ce-source"),
    ownLine("ce-time"),
    `(?:${ownLine(ORIGIN_HEADER)})?`,
    `(?:${ownLine("content-type", "(?:(application/json)|(.*))")})?`,
    `(?:${ownLine("ce-correlationid")})?`,
    `(?:${ownLine("ce-traceparent")})?`,
    "\\r\\n$",
  ].join(""),
  "u",
);

/** The attributes of a block agent-bus wrote; undefined for any other block. */
export function readOwnHeaders(text: string): FrameAttributes | undefined {
  const match = OWN_BLOCK.exec(text);
  if (match === null) return undefined;
  // Built from the groups at once: the values through an array cost ~400 instructions more.
  return {
    specversion: "1.0",
    id: present(match[1]),
    type: present(match[2]),
    source: present(match[3]),
    time: present(match[4]),
    origin: present(match[5]),
    contentType: match[6] === undefined ? present(match[7]) : JSON_TYPE,
    correlationid: present(match[8]),
    traceparent: present(match[9]),
  };
}

/** A value as read through the client's headers: trimmed, and missing when empty. */
function present(value: string | undefined): string | undefined {
  return trimmed(value) || undefined;
}

/** `value.trim()`, without the call for the usual value (the space after the colon is not captured). */
function trimmed(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 ? value : value.trim();
}

/**
 * A message's JSON body as text, read from the client's Buffer without the view `msg.data`
 * makes. Node's decoder puts U+FFFD for bytes that are not UTF-8, where the strict decoder throws:
 * a text holding U+FFFD (or starting with a BOM, which that decoder drops) is left to it, through
 * `msg.data`, as is anything but a Buffer.
 */
export function jsonBody(msg: Msg): string | Uint8Array {
  const { _rdata: data, _msg: parsed } = msg as unknown as RawMsg;
  const start = parsed?.hdr;
  if (!Buffer.isBuffer(data) || typeof start !== "number") return msg.data;
  const text = utf8Text(data, Math.max(start, 0), data.length);
  return text.includes("\uFFFD") || text.charCodeAt(0) === 0xfeff ? msg.data : text;
}

/** One slot per known header, none read yet. */
function noValues(): (string | undefined)[] {
  return new Array(FRAME_HEADERS.length).fill(undefined);
}

/** First value of each known header of a `NATS/1.0` block; undefined when the client must decide. */
export function readKnownHeaders(text: string): (string | undefined)[] | undefined {
  if (!text.startsWith(HEADER_START)) return undefined;
  const values = noValues();
  let start = HEADER_START.length;
  while (start < text.length) {
    let end = text.indexOf("\r\n", start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", start);
    const candidates = colon >= 0 && colon < end ? KNOWN_BY_LENGTH[colon - start] : undefined;
    if (candidates !== undefined) {
      for (const index of candidates) {
        if (values[index] !== undefined || !text.startsWith(FRAME_HEADERS[index] as string, start)) continue;
        const value = text.slice(colon + 1, end).trim();
        if (hasCrOrLf(value)) return undefined;
        values[index] = value;
        break;
      }
    }
    start = end + 2;
  }
  return values;
}

/** What happens to publishes while the connection to the server is down. */
export type DisconnectedPolicy = "buffer" | "reject";

/**
 * Holds publishes made while disconnected, up to a byte cap, and sends them in order on
 * reconnect. nats.js itself resets its outbound buffer on every reconnect attempt, so without
 * this, what is published while the server is away is silently lost.
 */
export class DisconnectBuffer {
  private held: { subject: string; headers: WireHeaders; body: Uint8Array }[] = [];
  private bytes = 0;
  down = false;

  constructor(
    private readonly policy: DisconnectedPolicy,
    private readonly capBytes: number,
  ) {}

  /** Throws a TransportError when a publish must be refused now, before anyone saw it. */
  admit(eventType: string, size: number): void {
    if (!this.down) return;
    if (this.policy === "reject") {
      throw new TransportError(
        `[EventBus:nats] publish of "${eventType}" refused: disconnected (disconnected: "reject")`,
      );
    }
    if (this.bytes + size > this.capBytes) {
      throw new TransportError(
        `[EventBus:nats] publish of "${eventType}" refused: disconnected and the buffer holds ${this.bytes} of ${this.capBytes} bytes (bufferBytes)`,
      );
    }
  }

  /** Keeps a frame while disconnected; false when it may go to the client at once. */
  hold(subject: string, headers: WireHeaders, body: Uint8Array): boolean {
    if (!this.down) return false;
    this.held.push({ subject, headers, body });
    this.bytes += body.length;
    return true;
  }

  /** Hands the held frames over in order and stops holding. */
  release(send: (subject: string, headers: WireHeaders, body: Uint8Array) => void): void {
    const held = this.held;
    this.held = [];
    this.bytes = 0;
    this.down = false;
    for (const frame of held) send(frame.subject, frame.headers, frame.body);
  }
}
