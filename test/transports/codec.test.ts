// The wire codec's JSON encoding: plain data takes a fast path without the strict replacer, and
// must come out exactly as JSON.stringify writes it; anything else must meet the same rules as
// before (PayloadError for what JSON would drop or mangle, toJSON honoured).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEnvelope } from "../../src/envelope.js";
import { PayloadError, TimeoutError } from "../../src/index.js";
import {
  asText,
  attributesOf,
  decodeBody,
  encodeFrame,
  encodeJson,
  frameAttributes,
  fromWireError,
  isEcho,
  JSON_TYPE,
  ORIGIN_HEADER,
  type OriginStamp,
  toWireError,
} from "../../src/transports/_codec.js";

/** What must be refused, written independently of the codec: the rule the README states. */
function refused(value: unknown, seen = new Set<unknown>()): boolean {
  const kind = typeof value;
  if (kind === "function" || kind === "bigint" || kind === "symbol") return true;
  if (value === null || kind !== "object") return false;
  const object = value as { toJSON?: unknown };
  if (typeof object.toJSON === "function") return refused(object.toJSON(""), seen);
  if (
    value instanceof Map ||
    value instanceof Set ||
    value instanceof WeakMap ||
    value instanceof WeakSet ||
    value instanceof Promise ||
    value instanceof Error ||
    value instanceof RegExp ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value)
  ) {
    return true;
  }
  if (seen.has(value)) return true; // a cycle
  seen.add(value);
  const children = Array.isArray(value)
    ? [...value]
    : Object.keys(value as object).map((key) => (value as Record<string, unknown>)[key]);
  const bad = children.some((child) => refused(child, seen));
  seen.delete(value);
  return bad;
}

function expectEncoding(value: unknown): void {
  if (refused(value)) {
    expect(() => encodeJson("codec.check", value)).toThrow(PayloadError);
  } else {
    expect(encodeJson("codec.check", value)).toBe(JSON.stringify(value));
  }
}

describe("encodeJson", () => {
  it("writes plain JSON data exactly as JSON.stringify does", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(encodeJson("codec.check", value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it("refuses or encodes arbitrary values by the strict rules", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
          withBoxedValues: true,
          withSparseArray: true,
          withObjectString: true,
          withUnicodeString: true,
        }),
        expectEncoding,
      ),
      { numRuns: 1000 },
    );
  });

  it("honours toJSON, including one that returns something JSON would mangle", () => {
    expectEncoding({ at: new Date(0), nested: { at: new Date(1) } });
    const hidden = { a: 1 };
    Object.defineProperty(hidden, "toJSON", { value: () => new Map(), enumerable: false });
    expect(() => encodeJson("codec.check", { hidden })).toThrow(PayloadError);
    const list = Object.assign([1, 2], { toJSON: () => ({ big: 1n }) });
    expect(() => encodeJson("codec.check", list)).toThrow(PayloadError);
  });

  it("encodes deep plain data and class instances like JSON.stringify", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 200; i++) deep = i % 2 === 0 ? { d: deep } : [deep];
    expectEncoding(deep);
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expectEncoding({ p: new Point(1, 2), list: [new Point(3, 4)] });
    expectEncoding(Object.assign(Object.create(null), { a: [1, { b: null }] }));
  });

  it("names what it refused, also below plain data", () => {
    expect(() => encodeJson("codec.check", { ok: [1, { fn: () => 1 }] })).toThrow(/function at key "fn"/u);
    expect(() => encodeJson("codec.check", { ok: { set: new Set() } })).toThrow(/a Set .*at key "set"/u);
    // An error's name and message are not enumerable: JSON would send {} in its place.
    expect(() => encodeJson("codec.check", { error: new TypeError("bad") })).toThrow(
      /a TypeError \(it would arrive as \{\}: send its name and message\) at key "error"/u,
    );
    expect(() => encodeJson("codec.check", new Error("boom"))).toThrow(PayloadError);
    expect(() => encodeJson("codec.check", [/a+b/u])).toThrow(
      /a RegExp \(it would arrive as \{\}\) at key "0"/u,
    );
    // Data whose reading throws is refused as a payload, with the reason, not left to escape.
    const getter = Object.defineProperty({}, "secret", {
      enumerable: true,
      get() {
        throw new Error("no access");
      },
    });
    expect(() => encodeJson("codec.check", { getter })).toThrow(PayloadError);
    expect(() => encodeJson("codec.check", { getter })).toThrow(/no access/u);
    const trap = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error("trapped");
        },
      },
    );
    expect(() => encodeJson("codec.check", trap)).toThrow(PayloadError);
    const cycle: { self?: unknown } = {};
    cycle.self = { again: cycle };
    expect(() => encodeJson("codec.check", cycle)).toThrow(/cycle/u);
  });
});

describe("fromWireError", () => {
  it("rebuilds agent-bus's own errors as instances of their class, with their fields", () => {
    const timeout = fromWireError(toWireError(new TimeoutError("inner.call", 250)), "outer.request");
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(timeout).toMatchObject({ name: "TimeoutError", eventType: "inner.call", timeout: 250 });
    const payload = fromWireError(toWireError(new PayloadError("big.reply", "too large")), "big.reply");
    expect(payload).toBeInstanceOf(PayloadError);
    expect(payload).toMatchObject({ eventType: "big.reply" });
    const other = fromWireError({ name: "RangeError", message: "no" }, "x");
    expect(Object.getPrototypeOf(other)).toBe(Error.prototype);
    expect(other).toMatchObject({
      name: "RangeError",
      message: "no",
      cause: { remote: true, eventType: "x" },
    });
  });
});

describe("toWireError", () => {
  it("sends a responder's error by name and message; a thrown plain object as its JSON", () => {
    expect(toWireError(new RangeError("too far"))).toEqual({ name: "RangeError", message: "too far" });
    expect(toWireError({ code: 42 })).toEqual({ name: "Error", message: '{"code":42}' });
    expect(toWireError("plain")).toEqual({ name: "Error", message: "plain" });
  });
});

describe("text bodies (worker and memory links)", () => {
  const withAttributes = [
    {},
    { correlationid: "corr-1" },
    { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    { correlationid: "c", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00" },
  ];
  const frameSize = (data: unknown, maxBytes: number, options = {}, id = "id-1") =>
    encodeFrame(
      createEnvelope("codec.size", data, "test", id, options),
      { origin: "origin", idPrefix: "id-" },
      maxBytes,
      asText,
    );

  it("counts headers and bytes exactly at the edge, whichever optional headers a frame has", () => {
    for (const options of withAttributes) {
      for (const id of ["id-1", "other-7"]) {
        const { headers, body } = frameSize({ a: 1 }, Number.MAX_SAFE_INTEGER, options, id);
        let exact = Buffer.byteLength(body as string);
        for (const [name, value] of Object.entries(headers)) exact += name.length + value.length + 4;
        expect(frameSize({ a: 1 }, exact, options, id).headers).toEqual(headers);
        expect(() => frameSize({ a: 1 }, exact - 1, options, id)).toThrow(PayloadError);
      }
    }
  });

  it("counts a text body in UTF-8 bytes against the limit, exactly at the edge", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (text) => {
        const headers = frameSize(text, Number.MAX_SAFE_INTEGER).headers;
        let exact = Buffer.byteLength(JSON.stringify(text));
        for (const [name, value] of Object.entries(headers)) exact += name.length + value.length + 4;
        expect(frameSize(text, exact).body).toBe(JSON.stringify(text));
        expect(() => frameSize(text, exact - 1)).toThrow(PayloadError);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes a text body by its content type, and refuses text for a binary type", () => {
    expect(decodeBody('{"a":[1,"é"]}', JSON_TYPE)).toEqual({ a: [1, "é"] });
    expect(decodeBody('{"a":1}', "application/cloudevents+json; charset=utf-8")).toEqual({ a: 1 });
    expect(decodeBody("", undefined)).toBeUndefined();
    expect(decodeBody("plain words", "text/plain")).toBe("plain words");
    expect(() => decodeBody("{not json", JSON_TYPE)).toThrow(SyntaxError);
    expect(() => decodeBody("bytes?", "application/octet-stream")).toThrow(/text body cannot be/u);
  });
});

describe("the origin header", () => {
  const bus: OriginStamp = { origin: "p7-1", idPrefix: "p7-" };
  const headersOf = (id: string, stamp: OriginStamp) =>
    encodeFrame(createEnvelope("codec.origin", 1, "test", id), stamp, 1 << 20).headers;

  it("is left out when the id is one the bus generated, and written for any other id", () => {
    expect(Object.keys(headersOf("p7-a", bus))).not.toContain(ORIGIN_HEADER);
    expect(headersOf("caller-1", bus)[ORIGIN_HEADER]).toBe("p7-1");
    // Another bus's id, relayed: the prefix must match as a whole, not as a shorter string.
    expect(headersOf("p7x-3", bus)[ORIGIN_HEADER]).toBe("p7-1");
    expect(headersOf("p7-a", { origin: "p7-1:deadletter" })[ORIGIN_HEADER]).toBe("p7-1:deadletter");
    expect(headersOf("p7-a", { origin: "p7-1", idPrefix: "" })[ORIGIN_HEADER]).toBe("p7-1");
  });

  it("tells an echo by the header when there is one, else by the id's prefix", () => {
    const lookup = (headers: Record<string, string>) => attributesOf((name: string) => headers[name]);
    for (const id of ["p7-a", "caller-1", "p7x-3"]) {
      const headers = headersOf(id, bus);
      expect(isEcho(lookup(headers), bus)).toBe(true);
      expect(isEcho(lookup(headers), { origin: "q1-1", idPrefix: "q1-" })).toBe(false);
    }
    expect(isEcho(lookup({ "ce-id": "p7-b", [ORIGIN_HEADER]: "q1-1" }), bus)).toBe(false);
    expect(isEcho(lookup({ "ce-id": "p7-b" }), { origin: "p7-1" })).toBe(false);
    expect(isEcho(lookup({}), bus)).toBe(false);
  });
});

describe("frameAttributes (frames that crossed a port or the memory hub)", () => {
  it("reads the text attributes of a record and nothing else", () => {
    const record = {
      "ce-specversion": "1.0",
      "ce-id": "i-1",
      "ce-type": "t.x",
      "ce-source": "s",
      "ce-time": "2026-01-01T00:00:00.000Z",
      [ORIGIN_HEADER]: "o-1",
      "content-type": JSON_TYPE,
      "ce-correlationid": "c-1",
      "ce-traceparent": "00-ab-cd-01",
    };
    expect(frameAttributes({ headers: record, body: "1" })).toEqual(
      attributesOf((name) => record[name as keyof typeof record]),
    );
    // Anything but text reads as missing; so does a frame without a header record.
    const odd = {
      "ce-id": 7,
      "ce-type": null,
      "ce-source": ["s"],
      "ce-time": { t: 1 },
      "ce-specversion": "1.0",
    };
    expect(frameAttributes({ headers: odd })).toEqual(
      attributesOf((name) => (name === "ce-specversion" ? "1.0" : undefined)),
    );
    for (const frame of [null, undefined, 42, "text", { headers: null }, { headers: "x" }, {}])
      expect(frameAttributes(frame)).toEqual(attributesOf(() => undefined));
  });
});
