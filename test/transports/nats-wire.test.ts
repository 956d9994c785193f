import type { Msg, MsgHdrs } from "@nats-io/nats-core";
import { connect, headers } from "@nats-io/transport-node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attributesFrom,
  attributesOf,
  decodeBody,
  encodeFrame,
  JSON_TYPE,
  ORIGIN_HEADER,
} from "../../src/transports/_codec.js";
import {
  frameHeaders,
  headerOf,
  jsonBody,
  KnownHeads,
  messageAttributes,
  publishHeaders,
  readKnownHeaders,
  readOwnHeaders,
  toHeaders,
} from "../../src/transports/_nats-wire.js";
import { skipWithout } from "./_broker.js";
import { publishRaw } from "./_nats-raw.js";

const skip = await skipWithout("nats-server", 4222);

/** The block `frameHeaders` writes for an event, as text. */
function ownBlock(
  envelope: Partial<{ id: string; type: string; source: string; time: string; correlationid: string }>,
  stamp: { origin: string; idPrefix?: string } = { origin: "o-1", idPrefix: "e-" },
): string {
  const event = { specversion: "1.0", id: "e-1", type: "t.x", source: "s", time: "2026-01-01T00:00:00.000Z" };
  const frame = encodeFrame({ ...event, data: 1, ...envelope } as never, stamp, 1 << 20);
  return bytes(frameHeaders(headers, frame.headers)).toString();
}

describe("known heads", () => {
  it("reads each block of a subscription as the expression alone does, whatever came before", () => {
    const usual = [
      ownBlock({ id: "e-2" }),
      ownBlock({ id: "e-3", time: "2026-01-01T00:00:00.001Z" }),
      ownBlock({ id: "e-4", type: "t.y" }),
      ownBlock({ id: "x-1" }),
      ownBlock({ id: "e-5", source: "zürich ✓" }),
      ownBlock({ id: "e-6", correlationid: "c-1" }),
      ownBlock({ id: "e-7" }, { origin: "o-2" }),
    ];
    // Blocks that share a head with the usual ones but not the rest of their form.
    const head = (usual[0] as string).slice(0, (usual[0] as string).indexOf("e-2"));
    const odd = [
      `${head}  padded \r\nce-time:  t \r\n\r\n`,
      `${head}\r\nce-time: \r\n\r\n`,
      `${head}a\rb\r\nce-time: t\r\n\r\n`,
      `${head}a\nb\r\nce-time: t\r\n\r\n`,
      `${head}a\r\nce-time: t\nu\r\n\r\n`,
      `${head}a\r\nce-time: t\r\n`,
      `${head}a\r\nce-time: t\r\nx: y\r\n\r\n`,
      `${head}a\r\nce-time:t\r\n\r\n`,
      `${head}a\r\nce-time: t\r\n\r\n\r\n`,
      `${head}a\r\nce-timex: t\r\n\r\n`,
      `${head}`,
      `${head}a`,
    ];
    const block = fc.oneof(
      fc.constantFrom(...usual, ...odd),
      // Any block of agent-bus's form, with values that may hold CR, LF or padding.
      fc
        .record({
          id: fc.string({ unit: fc.constantFrom("a", " ", "\r", "\n", "é"), minLength: 1, maxLength: 4 }),
          type: fc.constantFrom("t.x", "t.y", "t.z", "u.1", "u.2", "u.3"),
          time: fc.string({ unit: fc.constantFrom("1", " ", "\r", "\n"), maxLength: 3 }),
        })
        .map(({ id, type, time }) => `${head.replace("t.x", type)}${id}\r\nce-time: ${time}\r\n\r\n`),
    );
    fc.assert(
      fc.property(fc.array(block, { maxLength: 24 }), (blocks) => {
        const heads = new KnownHeads();
        for (const text of blocks) expect(readOwnHeaders(text, heads)).toEqual(readOwnHeaders(text));
      }),
      { numRuns: 300 },
    );
    // Long runs: more heads than a subscription keeps, cycling (it then rests, leaving the blocks
    // to the expression), then one head again.
    const many = Array.from({ length: 6 }, (_, i) => ownBlock({ id: `e-${i}`, type: `t.${i}` }));
    const long = new KnownHeads();
    for (let i = 0; i < 600; i++) {
      const text = i < 400 ? (many[i % many.length] as string) : ownBlock({ id: `e-${i}` });
      expect(readOwnHeaders(text, long)).toEqual(readOwnHeaders(text));
    }
    // And the usual blocks did take the known head: the same attributes, read from the rest alone.
    const heads = new KnownHeads();
    readOwnHeaders(usual[0] as string, heads);
    expect(heads.read(usual[1] as string)).toEqual(readOwnHeaders(usual[1] as string));
    expect(heads.read(odd[2] as string)).toBeUndefined();
    expect(heads.read(usual[2] as string)).toBeUndefined();
  });
});

/** Header blocks as a foreign publisher may send them, well-formed or not. */
const BLOCKS: Record<string, string | undefined> = {
  "CloudEvents attributes":
    "NATS/1.0\r\nce-specversion: 1.0\r\nce-id: a-1\r\nce-type: t.x\r\nce-source: s\r\n\r\n",
  "a repeated header": "NATS/1.0\r\nce-id: first\r\nce-id: second\r\n\r\n",
  "empty and padded values": "NATS/1.0\r\nce-source:\r\nce-id:    spaced   \r\n\r\n",
  "other letter case": "NATS/1.0\r\nCE-ID: upper\r\nCe-Type: mixed\r\n\r\n",
  "a line without a colon": "NATS/1.0\r\njunk\r\nce-id: after\r\n\r\n",
  "colons in a value": "NATS/1.0\r\nce-time: 2026-01-01T12:00:00Z\r\n\r\n",
  "UTF-8 in a value": "NATS/1.0\r\nce-source: zürich ✓\r\n\r\n",
  "a status line": "NATS/1.0 503 No Responders\r\nce-id: status\r\n\r\n",
  "a lone LF in a value": "NATS/1.0\r\nce-id: a\nb\r\n\r\n",
  "a space in a name": "NATS/1.0\r\nbad name: v\r\nce-id: x\r\n\r\n",
  "an empty block": "NATS/1.0\r\n\r\n",
  "agent-bus's own block":
    "NATS/1.0\r\nce-specversion: 1.0\r\nce-id: a-1\r\nce-type: t.x\r\nce-source: s\r\nce-time: 2026-01-01T12:00:00.000Z\r\nce-agentbusorigin: o-1\r\ncontent-type: application/json\r\n\r\n",
  "agent-bus's own block, every attribute, odd padding":
    "NATS/1.0\r\nce-specversion:1.0\r\nce-id:  a-2 \r\nce-type: t.x\r\nce-source: zürich ✓\r\nce-time: \r\nce-agentbusorigin: o-1\r\ncontent-type: text/plain\r\nce-correlationid: c-1\r\nce-traceparent: 00-ab-cd-01\r\n\r\n",
  "agent-bus's own block, in the order it writes":
    "NATS/1.0\r\nce-specversion: 1.0\r\nce-type: t.x\r\nce-source: s\r\ncontent-type: application/json\r\nce-id: a-3\r\nce-time: 2026-01-01T12:00:00.000Z\r\n\r\n",
  "the same head, another id and time":
    "NATS/1.0\r\nce-specversion: 1.0\r\nce-type: t.x\r\nce-source: s\r\ncontent-type: application/json\r\nce-id: a-4\r\nce-time: 2026-01-01T12:00:00.001Z\r\n\r\n",
  "the same head, a lone LF in the id":
    "NATS/1.0\r\nce-specversion: 1.0\r\nce-type: t.x\r\nce-source: s\r\ncontent-type: application/json\r\nce-id: a\nb\r\nce-time: t\r\n\r\n",
  "agent-bus's own order with a lone CR in a value":
    "NATS/1.0\r\nce-specversion: 1.0\r\nce-id: a\rb\r\nce-type: t.x\r\nce-source: s\r\nce-time: t\r\nce-agentbusorigin: o\r\n\r\n",
  "no headers": undefined,
};

/** The header block the client sends (`encode()` is on its class, not in the MsgHdrs type). */
function bytes(headers: MsgHdrs): Buffer {
  return Buffer.from((headers as unknown as { encode(): Uint8Array }).encode());
}

/** The attributes read, or the error reading the headers threw. */
function attributes(read: () => unknown): unknown {
  try {
    return read();
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

describe.skipIf(skip)("nats wire", () => {
  const received: Msg[] = [];
  let nc: Awaited<ReturnType<typeof connect>>;

  beforeAll(async () => {
    nc = await connect({ servers: "127.0.0.1:4222" });
    const subject = `test-nats-wire-${process.pid}.blocks`;
    nc.subscribe(subject, {
      callback: (_error, msg) => {
        received.push(msg);
      },
    });
    await nc.flush();
    await publishRaw(subject, Object.values(BLOCKS));
    await nc.flush();
    for (let i = 0; i < 100 && received.length < Object.keys(BLOCKS).length; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
  });

  afterAll(async () => {
    await nc?.close();
  });

  /** What `publish` sent to a subject of its own, once `count` messages arrived (or 1 s passed). */
  async function roundTrip(name: string, count: number, publish: (subject: string) => void): Promise<Msg[]> {
    const subject = `test-nats-wire-${process.pid}.${name}`;
    const arrived: Msg[] = [];
    nc.subscribe(subject, {
      callback: (_error, msg) => {
        arrived.push(msg);
      },
    });
    await nc.flush();
    publish(subject);
    await nc.flush();
    for (let i = 0; i < 100 && arrived.length < count; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return arrived;
  }

  it("reads every header block as the client's own headers do", () => {
    expect(received).toHaveLength(Object.keys(BLOCKS).length);
    Object.keys(BLOCKS).forEach((name, i) => {
      const msg = received[i] as Msg;
      // The fast reader first: the client's getter caches what it decoded.
      const fast = attributes(() => messageAttributes(msg));
      const client = attributes(() => attributesOf(headerOf(msg.headers)));
      if (name === "a space in a name") {
        // The client refuses the whole block for a name it would not write; the reader keeps the
        // lines it knows, as it always did (only a lookup of that name went to the client).
        expect(client).toEqual({ threw: expect.stringMatching(/not a valid character/u) });
        expect(fast).toEqual(attributesOf((header) => (header === "ce-id" ? "x" : undefined)));
      } else expect({ name, read: fast }).toEqual({ name, read: client });
    });
    // Read in turn by one subscription, twice over: the heads it keeps change nothing.
    const heads = new KnownHeads();
    for (const msg of [...received, ...received]) {
      const kept = attributes(() => messageAttributes(msg, heads));
      expect(kept).toEqual(attributes(() => messageAttributes(msg)));
    }
  });

  it("builds the same header bytes as the client's set()", () => {
    const records: Record<string, string>[] = [
      {
        "ce-specversion": "1.0",
        "ce-id": "a-1",
        "ce-type": "t.x",
        "ce-source": "zürich ✓",
        "content-type": "x/y",
      },
      { "ce-id": "  padded  ", "ce-source": "" },
      {},
    ];
    for (const record of records) {
      const expected = headers();
      for (const [name, value] of Object.entries(record)) expected.set(name, value);
      expect(bytes(toHeaders(headers, record))).toEqual(bytes(expected));
    }
  });

  it("refuses a value with CR or LF as the client's set() does", () => {
    expect(() => toHeaders(headers, { "ce-id": "a\r\nb" })).toThrow(/cannot contain/u);
    for (const value of ["a\r\nb", "a\nb", "a\rb"])
      expect(() => publishHeaders(headers, { "ce-id": "ok", "ce-source": value })).toThrow(/cannot contain/u);
  });

  it("reads a JSON body as the strict decoder does: bad bytes refused, a BOM dropped, U+FFFD kept", async () => {
    const bodies = [
      Buffer.from('{"a":"zürich ✓"}'),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]),
      Buffer.from('{"a":"\uFFFD"}'),
      Buffer.from("[1, 2"),
    ];
    const arrived = await roundTrip("bodies", bodies.length, (subject) => {
      for (const body of bodies)
        nc.publish(subject, body, { headers: publishHeaders(headers, { "content-type": JSON_TYPE }) });
    });
    const outcome = (read: () => unknown) => {
      try {
        return { data: read() };
      } catch (error) {
        return { threw: (error as Error).name };
      }
    };
    const fast = arrived.map((msg) => outcome(() => decodeBody(jsonBody(msg), JSON_TYPE)));
    const strict = arrived.map((msg) => outcome(() => decodeBody(msg.data, JSON_TYPE)));
    expect(fast).toEqual(strict);
    expect(strict.map((result) => "threw" in result)).toEqual([false, true, false, false, true]);
  });

  it("reads the blocks agent-bus writes in one match of its expression, with or without the optional attributes", () => {
    const envelope = {
      specversion: "1.0",
      id: "e-1",
      type: "t.x",
      source: "src",
      time: "2026-01-01T00:00:00.000Z",
    } as const;
    const frames = [
      encodeFrame({ ...envelope, data: { a: 1 } }, { origin: "origin-1" }, 1 << 20),
      encodeFrame({ ...envelope, data: undefined }, { origin: "origin-1" }, 1 << 20),
      encodeFrame(
        { ...envelope, data: 1, correlationid: "c-1", traceparent: "t-1" },
        { origin: "origin-1" },
        1 << 20,
      ),
      // The bus's own id: no origin header.
      encodeFrame({ ...envelope, data: 2 }, { origin: "e-0", idPrefix: "e-" }, 1 << 20),
    ];
    for (const frame of frames) {
      const text = bytes(publishHeaders(headers, frame.headers)).toString();
      const read = readOwnHeaders(text);
      expect(read).toEqual(attributesFrom(readKnownHeaders(text) ?? []));
      expect(read).toMatchObject({
        specversion: "1.0",
        id: "e-1",
        type: "t.x",
        source: "src",
        time: envelope.time,
        origin: frame.headers[ORIGIN_HEADER],
        contentType: frame.headers["content-type"],
      });
    }
    expect(frames.map((frame) => ORIGIN_HEADER in frame.headers)).toEqual([true, true, true, false]);
    expect(readOwnHeaders("NATS/1.0\r\nce-id: x\r\n\r\n")).toBeUndefined();
  });

  it("writes the block of every frame encodeFrame makes as publishHeaders does, and refuses CR or LF", () => {
    const envelope = {
      specversion: "1.0",
      id: "e-1",
      type: "t.x",
      source: "zürich ✓",
      time: "2026-01-01T00:00:00.000Z",
    } as const;
    const stamp = { origin: "origin-1" };
    const frames = [
      encodeFrame({ ...envelope, data: { a: 1 } }, stamp, 1 << 20),
      encodeFrame({ ...envelope, data: undefined }, stamp, 1 << 20),
      encodeFrame({ ...envelope, data: new Uint8Array([1, 2]) }, stamp, 1 << 20),
      encodeFrame({ ...envelope, data: 1, correlationid: "c-1" }, stamp, 1 << 20),
      encodeFrame({ ...envelope, data: 1, traceparent: "t-1" }, stamp, 1 << 20),
      encodeFrame({ ...envelope, data: 1, correlationid: "c-1", traceparent: "t-1" }, stamp, 1 << 20),
      encodeFrame({ ...envelope, data: 2 }, { origin: "e-0", idPrefix: "e-" }, 1 << 20),
      // The usual frame (the bus's own id, JSON, nothing optional) again: another type, another
      // source, an id and a time that are not ASCII, a repeat (type, source and time are searched
      // for CR and LF only when they change).
      encodeFrame({ ...envelope, type: "t.y", data: 2 }, { origin: "e-0", idPrefix: "e-" }, 1 << 20),
      encodeFrame({ ...envelope, source: "src-2", data: 2 }, { origin: "e-0", idPrefix: "e-" }, 1 << 20),
      encodeFrame({ ...envelope, id: "é-1", data: 2 }, { origin: "é-0", idPrefix: "é-" }, 1 << 20),
      encodeFrame(
        { ...envelope, id: "e-2", time: "2026-01-01T00:00:00.000Z ✓", data: 2 },
        { origin: "e-0", idPrefix: "e-" },
        1 << 20,
      ),
      encodeFrame({ ...envelope, data: 3 }, { origin: "e-0", idPrefix: "e-" }, 1 << 20),
    ];
    for (const frame of frames) {
      const expected = headers();
      for (const [name, value] of Object.entries(frame.headers)) expected.set(name, value);
      const written = bytes(frameHeaders(headers, frame.headers)).toString();
      expect(written).toEqual(bytes(publishHeaders(headers, frame.headers)).toString());
      expect(written).toEqual(bytes(expected).toString());
    }
    // Not the shape of a frame: the general writer.
    const partial = { "ce-id": "x", "content-type": JSON_TYPE };
    expect(bytes(frameHeaders(headers, partial))).toEqual(bytes(publishHeaders(headers, partial)));
    for (const bad of [
      { id: "a\r\nb" },
      { source: "a\nb" },
      { time: "2026\r\n" },
      { correlationid: "a\rb" },
      { traceparent: "\n" },
    ]) {
      const frame = encodeFrame({ ...envelope, data: 1, ...bad }, stamp, 1 << 20);
      expect(() => frameHeaders(headers, frame.headers)).toThrow(/cannot contain/u);
    }
    // Values frameHeaders takes unsearched when encodeFrame wrote them: anything else is searched.
    const own = encodeFrame({ ...envelope, data: 1 }, stamp, 1 << 20).headers;
    const odds: Record<string, string>[] = [
      { "ce-specversion": "1.0\r\nx: y" },
      { "ce-type": "t.x\ny" },
      { "content-type": "text/plain\r\nx: y" },
    ];
    for (const odd of odds) {
      expect(() => frameHeaders(headers, { ...own, ...odd })).toThrow(/cannot contain/u);
    }
  });

  it("encodes a publish's headers as the client does, but for padding that every reader trims", async () => {
    const records: Record<string, string>[] = [
      {
        "ce-specversion": "1.0",
        "ce-id": "a-1",
        "ce-type": "t.x",
        "ce-source": "zürich ✓",
        "ce-time": "2026-01-01T12:00:00.000Z",
        "content-type": "application/json",
      },
      { "ce-id": "  padded  ", "ce-source": "" },
      {},
    ];
    const arrived = await roundTrip("publish", records.length, (subject) => {
      for (const record of records) {
        const expected = headers();
        for (const [name, value] of Object.entries(record)) expected.set(name, value);
        const encoded = bytes(publishHeaders(headers, record));
        if (!Object.values(record).some((value) => value.trim() !== value))
          expect(encoded.toString()).toEqual(bytes(expected).toString());
        nc.publish(subject, "{}", { headers: publishHeaders(headers, record) });
      }
    });
    expect(arrived).toHaveLength(records.length);
    records.forEach((record, i) => {
      const msg = arrived[i] as Msg;
      const expected = attributesOf((name) => record[name]?.trim() || undefined);
      expect(messageAttributes(msg)).toEqual(expected);
      expect(attributesOf(headerOf(msg.headers))).toEqual(expected);
    });
  });
});
