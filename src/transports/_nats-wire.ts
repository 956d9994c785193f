/**
 * NATS specifics of the wire format: subjects, the lazy client import, header conversion and
 * the buffer that holds publishes while the connection is down.
 */
// Imported, not the global: Node's global Buffer is a getter, run on every use.
import { Buffer } from "node:buffer";
import type { Msg, MsgHdrs, NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";
import { TransportError } from "../errors.js";
import {
  attributesFrom,
  attributesOf,
  BYTES_TYPE,
  FRAME_HEADERS,
  type FrameAttributes,
  type FrameBody,
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

/** A frame's body as bytes for the client: text encoded by `toBuffer`, bytes as they are. */
export function bytesOf(body: FrameBody): Uint8Array {
  return typeof body === "string" ? toBuffer(body) : body;
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
 * The first lines of a block, up to the id's value, by event type: the version, type, source,
 * origin and content type, which a publisher repeats. Kept as the text written last time, with
 * the values it was written from, which a repeated value most often is the very same string of,
 * compared at once: the block is then that text and three pieces, searched for CR and LF in the
 * id alone (twelve searches and fifteen pieces were ~1,000 instructions an event more: callgrind).
 */
interface WrittenHead {
  readonly source: string;
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
  readonly text: string;
}
const writtenHeads = new Map<string, WrittenHead>();
/** Event types whose head is kept; a program with more writes the rest anew each publish. */
const KEPT_HEADS = 1024;
/** The time last found free of CR and LF: the events of one millisecond share it. */
let cleanTime = "";

/** The head of a block; undefined when a value holds CR or LF. */
function headOf(
  type: string,
  source: string,
  origin: string | undefined,
  contentType: string | undefined,
): string | undefined {
  const kept = writtenHeads.get(type);
  if (
    kept !== undefined &&
    kept.source === source &&
    kept.origin === origin &&
    kept.contentType === contentType
  )
    return kept.text;
  if (hasCrOrLf(type) || hasCrOrLf(source)) return undefined;
  const originLine = optionalLine(ORIGIN_HEADER, origin);
  const contentLine =
    contentType === JSON_TYPE || contentType === BYTES_TYPE
      ? `\r\ncontent-type: ${contentType}`
      : optionalLine("content-type", contentType);
  if (originLine === undefined || contentLine === undefined) return undefined;
  const text = `NATS/1.0\r\nce-specversion: 1.0\r\nce-type: ${type}\r\nce-source: ${source}${originLine}${contentLine}\r\nce-id: `;
  if (kept !== undefined || writtenHeads.size < KEPT_HEADS)
    writtenHeads.set(type, { source, origin, contentType, text });
  return text;
}

/** One optional line of `frameHeaders`: empty when absent, undefined when it holds CR or LF. */
function optionalLine(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return "";
  return hasCrOrLf(value) ? undefined : `\r\n${name}: ${value}`;
}

/**
 * The header block `publishHeaders` writes for a record `encodeFrame` made, as text, written in
 * `encodeFrame`'s order from named reads, without walking the record (0.68–0.85 → 0.46–0.49 µs a
 * block in a micro-benchmark; docs/bench-transports.md), the lines up to the id kept from the last
 * event of the type. Undefined for a record missing one of the five required names, or with a value
 * holding CR or LF: `publishHeaders` decides those.
 */
export function frameBlock(record: WireHeaders): string | undefined {
  const specversion = record["ce-specversion"];
  const id = record["ce-id"];
  const type = record["ce-type"];
  const source = record["ce-source"];
  const time = record["ce-time"];
  if (
    specversion !== "1.0" ||
    id === undefined ||
    type === undefined ||
    source === undefined ||
    time === undefined ||
    hasCrOrLf(id)
  )
    return undefined;
  if (time !== cleanTime) {
    if (hasCrOrLf(time)) return undefined;
    cleanTime = time;
  }
  const head = headOf(type, source, record[ORIGIN_HEADER], record["content-type"]);
  const correlationid = optionalLine("ce-correlationid", record["ce-correlationid"]);
  const traceparent = optionalLine("ce-traceparent", record["ce-traceparent"]);
  if (head === undefined || correlationid === undefined || traceparent === undefined) return undefined;
  return `${head}${id}\r\nce-time: ${time}${correlationid}${traceparent}\r\n\r\n`;
}

/** `publishHeaders` of a record `encodeFrame` made, by `frameBlock` when it can write it. */
export function frameHeaders(make: () => MsgHdrs, record: WireHeaders): MsgHdrs {
  const block = frameBlock(record);
  if (block === undefined) return publishHeaders(make, record);
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
 * value with a lone CR or LF, goes to the client's decoder. `heads`: the subscription's, see
 * `KnownHeads`.
 */
export function messageAttributes(msg: Msg, heads?: KnownHeads): FrameAttributes {
  const { _rdata: data, _msg: parsed } = msg as unknown as RawMsg;
  const end = parsed?.hdr;
  if (!(data instanceof Uint8Array) || typeof end !== "number") return attributesOf(headerOf(msg.headers));
  if (end < 0) return NO_ATTRIBUTES;
  const text = blockText(data, end);
  return readOwnHeaders(text, heads) ?? knownAttributes(text) ?? attributesOf(headerOf(msg.headers));
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
 * The block `encodeFrame` and `publishHeaders` write (`encodeFrame`'s order, its five required
 * headers present, nothing else), matched at once: V8's compiled expression beats scanning the
 * lines in JS (2,900 instructions a block against 6,300 for the best scan tried, counted by
 * callgrind on a single-threaded node). The version and a JSON content type are matched as text
 * and read as this module's constants: comparing a decoded copy with a constant takes V8's
 * runtime, ~150 instructions, where the same string compares at once. The first group is the
 * head, the lines up to the id's value, for `KnownHeads`. Any other block takes the general scan.
 */
const OWN_BLOCK = new RegExp(
  [
    "^(NATS/1\\.0\\r\\n",
    ownLine("ce-specversion", "1\\.0"),
    ownLine("ce-type"),
    ownLine("ce-source"),
    `(?:${ownLine(ORIGIN_HEADER)})?`,
    `(?:${ownLine("content-type", "(?:(application/json)|(.*))")})?`,
    "ce-id: ?)(.*)\\r\\n",
    ownLine("ce-time"),
    `(?:${ownLine("ce-correlationid")})?`,
    `(?:${ownLine("ce-traceparent")})?`,
    "\\r\\n$",
  ].join(""),
  "u",
);

/**
 * The attributes of a block agent-bus wrote; undefined for any other block. With `heads`, a block
 * that starts with a head read before is read from the rest alone, and a block read whole leaves
 * its head there.
 */
export function readOwnHeaders(text: string, heads?: KnownHeads): FrameAttributes | undefined {
  if (heads !== undefined) {
    const read = heads.read(text);
    if (read !== undefined) return read;
  }
  const match = OWN_BLOCK.exec(text);
  if (match === null) return undefined;
  // Built from the groups at once: the values through an array cost ~400 instructions more.
  const attributes: FrameAttributes = {
    specversion: "1.0",
    id: present(match[7]),
    type: present(match[2]),
    source: present(match[3]),
    time: present(match[8]),
    origin: present(match[4]),
    contentType: match[5] === undefined ? present(match[6]) : JSON_TYPE,
    correlationid: present(match[9]),
    traceparent: present(match[10]),
  };
  heads?.remember(match[1] as string, attributes);
  return attributes;
}

/** A head read before and the attributes its lines carry. */
interface KnownHead {
  readonly text: string;
  readonly attributes: FrameAttributes;
}

const CR = 13;
const LF = 10;
const TIME_LINE = "ce-time: ";
/** Heads a subscription keeps: its publishers' types, a few at a time. */
const KEPT_PER_SUBSCRIPTION = 4;
/** Reads over which `KnownHeads` counts its misses. */
const ROUND = 64;
/** Reads a `KnownHeads` that missed too often leaves to the expression before it tries again. */
const REST = 4096;

/**
 * The heads of the blocks one subscription read last. Its events mostly come from a few
 * publishers, of one type or a few, and each publisher repeats the lines up to the id: a block
 * that begins with a known head needs its id and time found, not the expression matched over the
 * whole block (a NATS subscriber: ~1,600 instructions an event less, callgrind). A head is only
 * ever a prefix the expression matched, so what it holds was checked then.
 */
export class KnownHeads {
  private readonly heads: KnownHead[] = [];
  private replace = 0;
  private reads = 0;
  private misses = 0;
  /** Reads left to the expression alone: see `endRound`. */
  private resting = 0;

  /** The attributes of a usual block that starts with a known head; undefined otherwise. */
  read(text: string): FrameAttributes | undefined {
    if (this.resting > 0) {
      this.resting--;
      return undefined;
    }
    if (++this.reads === ROUND) this.endRound();
    const { heads } = this;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i] as KnownHead;
      const length = head.text.length;
      // slice and ===: startsWith compared these ~150 characters one at a time (~4,000 instructions).
      if (text.length > length && text.slice(0, length) === head.text) {
        const read = readTail(text, length, head);
        if (read !== undefined) return read;
        break;
      }
    }
    this.misses++;
    return undefined;
  }

  remember(text: string, attributes: FrameAttributes): void {
    if (this.resting > 0) return;
    if (this.heads.length < KEPT_PER_SUBSCRIPTION) this.heads.push({ text, attributes });
    else {
      this.heads[this.replace] = { text, attributes };
      this.replace = (this.replace + 1) % KEPT_PER_SUBSCRIPTION;
    }
  }

  /**
   * A subscription whose blocks come from more heads than it keeps (a wildcard over many types,
   * a type with many publishers) misses on most reads, and a miss costs its comparisons and a
   * new head on top of the expression (~2,500 instructions an event at 64 types cycling, against
   * ~1,500 saved by a hit): after a round of ROUND reads with more misses than hits, it leaves the
   * next REST reads to the expression, then tries again.
   */
  private endRound(): void {
    if (this.misses * 2 > ROUND) {
      this.resting = REST;
      this.heads.length = 0;
      this.replace = 0;
    }
    this.reads = 0;
    this.misses = 0;
  }
}

/**
 * The id and time after a known head, when the block ends with them (CRLF, the time line, CRLF,
 * CRLF) and neither holds a lone CR or LF; undefined otherwise, for the expression to decide.
 */
function readTail(text: string, from: number, head: KnownHead): FrameAttributes | undefined {
  const idEnd = text.indexOf("\r", from);
  if (idEnd < 0 || text.charCodeAt(idEnd + 1) !== LF || !text.startsWith(TIME_LINE, idEnd + 2))
    return undefined;
  const timeStart = idEnd + 2 + TIME_LINE.length;
  const timeEnd = text.indexOf("\r", timeStart);
  if (
    timeEnd !== text.length - 4 ||
    text.charCodeAt(timeEnd + 1) !== LF ||
    text.charCodeAt(timeEnd + 2) !== CR ||
    text.charCodeAt(timeEnd + 3) !== LF
  )
    return undefined;
  const id = text.slice(from, idEnd);
  const time = text.slice(timeStart, timeEnd);
  if (id.indexOf("\n") >= 0 || time.indexOf("\n") >= 0) return undefined;
  const known = head.attributes;
  return {
    specversion: "1.0",
    id: present(id),
    type: known.type,
    source: known.source,
    time: present(time),
    origin: known.origin,
    contentType: known.contentType,
    correlationid: undefined,
    traceparent: undefined,
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

  /** Why the connection is gone for good, once the client stopped reconnecting. */
  private gone: string | undefined;

  /** Throws a TransportError when a publish must be refused now, before anyone saw it. */
  admit(eventType: string, body: FrameBody): void {
    if (!this.down) return;
    const size = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.length;
    if (this.gone !== undefined) {
      throw new TransportError(`[EventBus:nats] publish of "${eventType}" refused: ${this.gone}`);
    }
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

  /** Keeps a frame while disconnected, its body as bytes; false when it may go to the client at once. */
  hold(subject: string, headers: WireHeaders, body: FrameBody): boolean {
    if (!this.down) return false;
    const bytes = bytesOf(body);
    this.held.push({ subject, headers, body: bytes });
    this.bytes += bytes.length;
    return true;
  }

  /** Refuses every publish from now on, with why; returns how many held frames are dropped. */
  closeForGood(reason: string): number {
    this.gone = reason;
    this.down = true;
    const dropped = this.held.length;
    this.held = [];
    this.bytes = 0;
    return dropped;
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
