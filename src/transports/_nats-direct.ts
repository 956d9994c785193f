/**
 * Publishes written straight into the NATS client's outbound queue. The client's `publish()`
 * encodes its `HPUB` line with `TextEncoder` (a new ArrayBuffer per publish), tests the subject
 * with a regular expression and takes the header block as a separate piece: about a fifth of a
 * publisher's CPU at 128 B (docs/bench-transports.md). Here the line, the block and a body given
 * as text are written together into a slab of bytes, the subject is checked once, and the client's
 * own `sendCommand` queues the message, so that its flushing, its buffering while reconnecting and
 * its statistics stay its own.
 *
 * This reaches into the client (nats-core 3): `DirectPublisher.of` takes it only when the client
 * has the shape this was written for, and `send` returns false whenever the client's `publish()`
 * would do anything but queue the message (closed, draining, no header support, over
 * max_payload): the caller then takes `publish()`, which throws as it always did.
 */
// Imported, not the global: Node's global Buffer is a getter, run on every use.
import { Buffer } from "node:buffer";
import type { NatsConnection } from "@nats-io/transport-node";

/** What of the client's protocol handler a direct publish uses. */
interface ClientProtocol {
  sendCommand(command: Uint8Array, ...payloads: Uint8Array[]): void;
  outBytes: number;
  outMsgs: number;
  noMorePublishing: boolean;
  info?: { readonly headers?: boolean; readonly max_payload?: number };
}

/** A subject as a direct publish writes it: its text and its UTF-8 length. */
export interface WireSubject {
  readonly text: string;
  /** UTF-8 bytes of the text; -1 when the client would refuse it (empty, or with whitespace). */
  readonly bytes: number;
}

/** The client's test of a subject: any of these refuses it. */
const WHITESPACE = /[ \n\r\t]/u;

export function wireSubject(text: string): WireSubject {
  const valid = text.length > 0 && !WHITESPACE.test(text);
  return { text, bytes: valid ? Buffer.byteLength(text, "utf8") : -1 };
}

/** Buffer's own UTF-8 writer, under the name Node has long given it (`write` calls it). */
const utf8Write = (Buffer.prototype as { utf8Write?: (text: string, offset: number) => number }).utf8Write;

/** Room for "HPUB ", two spaces, the two lengths (ten digits each) and CRLF, around the subject. */
const LINE_ROOM = 5 + 2 + 10 + 10 + 2;
/** Bytes of one slab: many messages' lines and blocks, one ArrayBuffer for all of them. */
const SLAB_BYTES = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);

export class DirectPublisher {
  /**
   * Bytes written so far are never written again: the client keeps each view until it flushes
   * (and the socket may keep it longer), so a full slab is left to the collector, not reused.
   */
  private slab = Buffer.allocUnsafeSlow(0);
  /** The slab's ArrayBuffer, kept: reading `.buffer` is a call into V8 for every view made. */
  private memory = this.slab.buffer;
  private offset = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly protocol: ClientProtocol,
    private readonly write: (text: string, offset: number) => number,
  ) {}

  /** A direct publisher on this connection; undefined when the client is not of the known shape. */
  static of(nc: NatsConnection): DirectPublisher | undefined {
    const protocol = (nc as { protocol?: Partial<ClientProtocol> }).protocol;
    if (
      typeof utf8Write !== "function" ||
      typeof protocol !== "object" ||
      protocol === null ||
      typeof protocol.sendCommand !== "function" ||
      typeof protocol.outBytes !== "number" ||
      typeof protocol.outMsgs !== "number" ||
      typeof protocol.noMorePublishing !== "boolean"
    )
      return undefined;
    return new DirectPublisher(nc, protocol as ClientProtocol, utf8Write);
  }

  /**
   * Queues a message of this header block (`NATS/1.0` … blank line) and body on the subject; false,
   * with nothing queued, when the client's `publish()` must handle it. A body given as text is
   * written into the slab after the block, so that the whole message is one piece of the client's
   * queue (its `Buffer.from` and the client's copying of three pieces were ~7 % of a publisher's
   * CPU, a CPU profile at 128 B); bytes are queued as they are.
   */
  send(subject: WireSubject, block: string, body: string | Uint8Array): boolean {
    const protocol = this.protocol;
    const info = protocol.info;
    if (subject.bytes < 0 || info?.headers !== true || protocol.noMorePublishing || this.nc.isClosed())
      return false;
    const text = typeof body === "string";
    // The line goes before the block, and its lengths are known once the rest is written: the
    // rest is written after room for the longest line, the line then ends where the block starts.
    const room = LINE_ROOM + subject.bytes;
    const need = room + 3 * block.length + (text ? 3 * body.length + 2 : 0);
    if (this.slab.length - this.offset < need) this.renew(need);
    const slab = this.slab;
    const start = this.offset + room;
    const blockBytes = this.write.call(slab, block, start);
    let end = start + blockBytes;
    let bodyBytes: number;
    if (text) {
      bodyBytes = this.write.call(slab, body, end);
      end += bodyBytes;
      slab[end++] = 13;
      slab[end++] = 10;
    } else bodyBytes = body.length;
    const total = blockBytes + bodyBytes;
    if (total > (info.max_payload ?? Number.POSITIVE_INFINITY)) return false;
    const line = `HPUB ${subject.text} ${blockBytes} ${total}\r\n`;
    const lineStart = start - (line.length - subject.text.length + subject.bytes);
    this.write.call(slab, line, lineStart);
    this.offset = end;
    protocol.outBytes += total;
    protocol.outMsgs++;
    const message = new Uint8Array(this.memory, slab.byteOffset + lineStart, end - lineStart);
    if (text) protocol.sendCommand(message);
    else protocol.sendCommand(message, body, CRLF);
    return true;
  }

  private renew(need: number): void {
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, need));
    this.memory = this.slab.buffer;
    this.offset = 0;
  }
}
