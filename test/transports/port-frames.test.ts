// Events packed as flat arrays for a port: what packs, what is left to the object form, and that
// a packed event comes back as the message and frame it was.
import { describe, expect, it } from "vitest";
import { encodeFrame } from "../../src/transports/_codec.js";
import { packEvent, unpackEvent } from "../../src/transports/_port-frames.js";

const stamp = { origin: "origin-1", idPrefix: "bus-1" };

function frameOf(extra: { correlationid?: string; traceparent?: string; id?: string } = {}) {
  const envelope = {
    specversion: "1.0" as const,
    id: extra.id ?? "bus-1-7",
    type: "task.done",
    source: "tests",
    time: "2026-12-03T10:00:00.000Z",
    data: { ok: true },
    ...(extra.correlationid !== undefined && { correlationid: extra.correlationid }),
    ...(extra.traceparent !== undefined && { traceparent: extra.traceparent }),
  };
  return encodeFrame(envelope, stamp, 1 << 20, (text) => text);
}

/** Headers without their undefined slots. */
function defined(headers: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined));
}

describe("packEvent / unpackEvent", () => {
  it("round-trips an event through a structured clone, with and without the optional headers", () => {
    for (const frame of [
      frameOf(),
      frameOf({ correlationid: "c-1", traceparent: "00-abc-def-01", id: "someone-else-1" }),
    ]) {
      const packed = packEvent("msg", 3, "task.done", frame);
      expect(Array.isArray(packed)).toBe(true);
      const back = unpackEvent(structuredClone(packed) as unknown[]);
      expect(back).toMatchObject({ t: "msg", id: 3, type: "task.done" });
      expect(back?.frame.body).toBe(frame.body);
      expect(defined(back?.frame.headers ?? {})).toEqual(frame.headers);
    }
    const published = unpackEvent(packEvent("pub", "ns-1", "task.done", frameOf()) as unknown[]);
    expect(published).toMatchObject({ t: "pub", ns: "ns-1", type: "task.done" });
  });

  it("packs again an event it unpacked (a hub forwarding it to another port)", () => {
    const frame = frameOf();
    const first = unpackEvent(packEvent("pub", "ns-1", "task.done", frame) as unknown[]);
    const again = packEvent("msg", 9, "task.done", first?.frame);
    expect(again).toBeDefined();
    expect(defined(unpackEvent(again as unknown[])?.frame.headers ?? {})).toEqual(frame.headers);
  });

  it("leaves to the object form what it cannot carry", () => {
    const frame = frameOf();
    const cases: unknown[] = [
      { headers: frame.headers, body: new Uint8Array([1, 2]) },
      { headers: { ...frame.headers, "x-extra": "1" }, body: frame.body },
      { headers: { ...frame.headers, "ce-id": 42 }, body: frame.body },
      { headers: null, body: frame.body },
      { body: frame.body },
      null,
      "text",
    ];
    for (const odd of cases) expect(packEvent("msg", 1, "task.done", odd)).toBeUndefined();
  });

  it("unpacks nothing from an array that is not a packed event", () => {
    const packed = packEvent("msg", 1, "task.done", frameOf()) as unknown[];
    expect(unpackEvent(packed.slice(0, -1))).toBeUndefined();
    expect(unpackEvent([...packed, "more"])).toBeUndefined();
    expect(unpackEvent(["nope", ...packed.slice(1)])).toBeUndefined();
    expect(unpackEvent([packed[0], packed[1], packed[2], 17, ...packed.slice(4)])).toBeUndefined();
    expect(unpackEvent([])).toBeUndefined();
  });
});
