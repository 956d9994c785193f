/**
 * Events over a port packed as flat arrays: a structured clone copies an array of strings far
 * more cheaply than the objects of a message and its frame (keys written and read back, every
 * property looked up), and the receiver rebuilds the objects with fixed keys, which V8 creates
 * in one step. Anything that does not fit (bytes, a header agent-bus does not write) goes as
 * objects, as before.
 */
import { FRAME_HEADERS, type FrameBody, ORIGIN_HEADER, type WireFrame } from "./_codec.js";

/** Event messages of the port protocol: one delivered to a subscription, one published to the hub. */
export type EventKind = "msg" | "pub";

/**
 * Kind, subscription id or namespace, event type, body, then one slot per header `encodeFrame`
 * writes, in `FRAME_HEADERS` order (written out below: a fixed literal is what V8 builds fastest).
 */
const HEAD = 4;
const LENGTH = HEAD + FRAME_HEADERS.length;

/**
 * An event message as an array; undefined when its frame does not fit: a body that is not text,
 * a header value that is not text, or a header name not among `FRAME_HEADERS`.
 */
export function packEvent(
  kind: EventKind,
  key: number | string,
  type: string,
  frame: unknown,
): unknown[] | undefined {
  if (typeof frame !== "object" || frame === null) return undefined;
  const { headers: h, body } = frame as { headers?: Record<string, unknown>; body?: unknown };
  if (typeof body !== "string" || typeof h !== "object" || h === null) return undefined;
  let count = 0;
  for (const name in h) if (h[name] !== undefined) count++;
  const packed = [
    kind,
    key,
    type,
    body,
    h["ce-specversion"],
    h["ce-id"],
    h["ce-type"],
    h["ce-source"],
    h["ce-time"],
    h[ORIGIN_HEADER],
    h["content-type"],
    h["ce-correlationid"],
    h["ce-traceparent"],
  ];
  for (let i = HEAD; i < LENGTH; i++) {
    const value = packed[i];
    if (value === undefined) continue;
    if (typeof value !== "string") return undefined;
    count--;
  }
  return count === 0 ? packed : undefined;
}

/** A packed event message rebuilt; undefined for an array that is not one. */
export function unpackEvent(
  packed: readonly unknown[],
): { t: EventKind; id?: unknown; ns?: unknown; type: unknown; frame: WireFrame<FrameBody> } | undefined {
  if (packed.length !== LENGTH || typeof packed[3] !== "string") return undefined;
  const headers = {
    "ce-specversion": packed[4],
    "ce-id": packed[5],
    "ce-type": packed[6],
    "ce-source": packed[7],
    "ce-time": packed[8],
    [ORIGIN_HEADER]: packed[9],
    "content-type": packed[10],
    "ce-correlationid": packed[11],
    "ce-traceparent": packed[12],
  } as Record<string, string>;
  const frame = { headers, body: packed[3] };
  if (packed[0] === "msg") return { t: "msg", id: packed[1], type: packed[2], frame };
  if (packed[0] === "pub") return { t: "pub", ns: packed[1], type: packed[2], frame };
  return undefined;
}
