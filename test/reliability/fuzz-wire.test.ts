// Fuzzing what arrives on the wire from a foreign or broken publisher: missing and wrong headers,
// truncated JSON, wrong content types, random bytes, `__proto__` and `constructor` keys, huge
// bodies. On every transport each message is either delivered as plain data or dropped with one
// log line; nothing reaches Object.prototype; the bus keeps serving.
import { MessageChannel } from "node:worker_threads";
import { connect as natsConnect, headers as natsHeaders } from "@nats-io/transport-node";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it, type TestContext, vi } from "vitest";
import { EventBus, PayloadError, type Transport } from "../../src/index.js";
import type { PortLike } from "../../src/transports/_port.js";
import { createMemoryHub, memoryTransport } from "../../src/transports/memory.js";
import { natsTransport } from "../../src/transports/nats.js";
import { redisTransport } from "../../src/transports/redis.js";
import { workerTransport } from "../../src/transports/worker.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { skipWithout } from "../transports/_broker.js";
import { deleteNamespaces } from "../transports/_redis.js";
import { body, headers, POLLUTING_JSON, plainData, prototypeClean } from "./_fuzz.js";
import { record } from "./_record.js";

const TYPE = "fuzz.wire";
const FRAMES = 300;
const encoder = new TextEncoder();

/** Raw frames in the binary mode (memory, worker, NATS): random, then the polluting ones made valid. */
function binaryFrames(): { headers: Record<string, string>; body: Uint8Array | string }[] {
  const valid = {
    "ce-specversion": "1.0",
    "ce-id": "p",
    "ce-type": TYPE,
    "ce-source": "fuzz",
    "content-type": "application/json",
  };
  return [
    ...fc.sample(fc.record({ headers: headers(TYPE), body }), FRAMES),
    ...POLLUTING_JSON.map((json, i) => ({
      headers: { ...valid, "ce-id": `p${i}` },
      body: encoder.encode(json),
    })),
  ];
}

/** Counts the "dropped a malformed message" lines transports log through console.warn. */
function watchDrops() {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  return {
    dropped: () => lines.filter((line) => /dropped a malformed message/u.test(line)).length,
    lines,
    spy,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Sends the frames through `inject`, then one normal event from `publisher`; checks and records
 * that every frame was delivered as plain data or dropped with a line.
 */
async function fuzz(
  context: TestContext,
  label: string,
  subscriber: EventBus,
  publisher: EventBus,
  count: number,
  inject: (index: number) => void | Promise<void>,
  minimumDelivered: number,
): Promise<void> {
  const drops = watchDrops();
  const delivered: unknown[] = [];
  const after: unknown[] = [];
  subscriber.subscribe(TYPE, (data) => delivered.push(data));
  subscriber.subscribe("fuzz.after", (data) => after.push(data));
  await linked(subscriber, publisher);
  for (let i = 0; i < count; i++) await inject(i);
  publisher.publish("fuzz.after", { ok: true });
  await waitFor(() => after.length === 1, "the normal event after the fuzz", 10_000);
  await waitFor(
    () => delivered.length + drops.dropped() === count,
    "every frame delivered or dropped",
    10_000,
  ).catch(() => undefined);
  record(context, {
    injected: label,
    sent: count,
    lost: count - delivered.length - drops.dropped(),
    duplicated: 0,
    reordered: 0,
    note: `${delivered.length} delivered, ${drops.dropped()} dropped with a log line`,
  });
  expect(delivered.length + drops.dropped()).toBe(count);
  expect(delivered.length).toBeGreaterThanOrEqual(minimumDelivered);
  expect(delivered.every((data) => plainData(data))).toBe(true);
  expect(prototypeClean()).toBe(true);
  expect(after).toEqual([{ ok: true }]);
}

describe("raw frames on the memory transport", () => {
  it("each is delivered as plain data or dropped with a line", async (context) => {
    const hub = createMemoryHub();
    const namespace = "fuzz";
    const [subscriber, publisher] = [0, 1].map(
      () => new EventBus({ transport: memoryTransport({ hub, namespace }) }),
    ) as [EventBus, EventBus];
    const frames: unknown[] = [
      ...binaryFrames(),
      null,
      "text",
      42,
      { headers: null },
      { headers: [], body: 1 },
    ];
    await fuzz(
      context,
      "raw frames (memory)",
      subscriber,
      publisher,
      frames.length,
      (i) => hub.inject(namespace, TYPE, frames[i]),
      POLLUTING_JSON.length,
    );
    await Promise.all([subscriber.close(), publisher.close()]);
  });
});

describe("raw messages on a worker port", () => {
  it("frames are delivered or dropped, and junk protocol messages do not stop the broker", async (context) => {
    const channel = new MessageChannel();
    const subscriber = new EventBus({
      transport: workerTransport({ ports: [channel.port1 as unknown as PortLike], namespace: "fuzz" }),
    });
    const frames = binaryFrames();
    const junk = fc.sample(
      fc.record({
        t: fc.constantFrom(
          "pub",
          "sub",
          "unsub",
          "resp",
          "req",
          "answer",
          "flush",
          "hello",
          "nope",
          "__proto__",
          "constructor",
        ),
        id: fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)),
        ns: fc.oneof(fc.constant("fuzz-other"), fc.string({ maxLength: 4 }), fc.integer()),
        type: fc.oneof(fc.constant("x.y"), fc.string({ maxLength: 6 }), fc.constant(null)),
        pattern: fc.oneof(fc.constant(">"), fc.string({ maxLength: 6 }), fc.constant(undefined)),
        frame: fc.anything(),
      }),
      200,
    );
    // Events as the port packs them (kind, id or namespace, type, body, 9 header slots), with junk
    // in every slot: alone, and together in a batch.
    const slot = fc.oneof(fc.string({ maxLength: 8 }), fc.constant(undefined), fc.anything());
    const packedJunk = fc.sample(
      fc.oneof(
        fc.tuple(
          fc.constantFrom("pub", "msg", "sub"),
          fc.oneof(fc.constant("fuzz"), fc.integer(), slot),
          fc.oneof(fc.constant(TYPE), slot),
          fc.oneof(fc.constant('{"a":1}'), slot),
          ...Array.from({ length: 9 }, () => slot),
        ),
        fc.array(fc.anything(), { maxLength: 14 }),
      ),
      200,
    );
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    process.on("uncaughtException", onError);
    try {
      // The far end of the port stands in for a worker: its own bus, then raw messages.
      const publisher = new EventBus({
        transport: workerTransport({ port: channel.port2 as unknown as PortLike, namespace: "fuzz" }),
      });
      await fuzz(
        context,
        "raw frames (worker port)",
        subscriber,
        publisher,
        frames.length,
        (i) => {
          channel.port2.postMessage({ t: "pub", ns: "fuzz", type: TYPE, frame: frames[i] });
        },
        POLLUTING_JSON.length,
      );
      for (const message of junk) channel.port2.postMessage(message);
      for (const message of packedJunk) channel.port2.postMessage(message);
      channel.port2.postMessage({ t: "batch", items: [...junk.slice(0, 50), ...packedJunk] });
      const after: unknown[] = [];
      subscriber.subscribe("fuzz.still", (data) => after.push(data));
      await subscriber.ready();
      publisher.publish("fuzz.still", 1);
      await waitFor(() => after.length === 1, "an event after the junk");
      record(context, {
        injected: "junk protocol messages (worker port)",
        sent: junk.length + 2 * packedJunk.length + 50,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        note: `${errors.length} uncaught errors`,
      });
      expect(errors).toEqual([]);
      // The broker side closes first: the worker's close() must still end, not wait for it forever.
      await subscriber.close();
      const closing = Date.now();
      await publisher.close();
      expect(Date.now() - closing).toBeLessThan(5000);
    } finally {
      process.off("uncaughtException", onError);
      channel.port1.close();
    }
  });
});

const noNats = await skipWithout("nats-server", 4222);
describe.skipIf(noNats)("raw messages on NATS (shared server, own namespace)", () => {
  const buses: EventBus[] = [];
  afterAll(() => Promise.all(buses.map((bus) => bus.close())));
  const bus = (namespace: string) => {
    const created = new EventBus({ transport: natsTransport({ namespace }) });
    buses.push(created);
    return created;
  };

  it("each is delivered as plain data or dropped with a line", async (context) => {
    const namespace = uniqueNamespace("fuzz");
    const raw = await natsConnect({ servers: "127.0.0.1:4222" });
    const frames = binaryFrames();
    try {
      await fuzz(
        context,
        "raw frames (NATS)",
        bus(namespace),
        bus(namespace),
        frames.length,
        (i) => {
          const frame = frames[i] as (typeof frames)[number];
          const h = natsHeaders();
          for (const [key, value] of Object.entries(frame.headers)) if (value !== "") h.set(key, value);
          raw.publish(
            `${namespace}.${TYPE}`,
            typeof frame.body === "string" ? encoder.encode(frame.body) : frame.body,
            { headers: h },
          );
        },
        POLLUTING_JSON.length,
      );
    } finally {
      await raw.close();
    }
  });

  it("a huge publish is refused with a PayloadError before anyone sees it; the next one goes", async (context) => {
    const namespace = uniqueNamespace("fuzz");
    const [a, b] = [bus(namespace), bus(namespace)];
    const got: unknown[] = [];
    b.subscribe("big.>", (data) => got.push(data));
    await linked(b, a);
    const sizes = [1024 * 1024 + 1, 4 * 1024 * 1024, 64 * 1024 * 1024];
    for (const size of sizes) expect(() => a.publish("big.one", "x".repeat(size))).toThrow(PayloadError);
    a.publish("big.small", "ok");
    await waitFor(() => got.length === 1, "the small event");
    expect(got).toEqual(["ok"]);
    record(context, {
      injected: "payloads of 1 MiB+1 to 64 MiB (NATS)",
      sent: sizes.length + 1,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: "huge ones refused with PayloadError, the small one delivered",
    });
  });

  it("valid types of any unicode cross the server exactly", async (context) => {
    const namespace = uniqueNamespace("fuzz");
    const [a, b] = [bus(namespace), bus(namespace)];
    const got: string[] = [];
    b.subscribe(">", (_data, event) => got.push(event.type));
    await linked(b, a);
    got.length = 0;
    const { name, validEventType } = await import("./_fuzz.js");
    // Well-formed unicode only: a lone surrogate does not survive UTF-8 (see fuzz-names).
    const types = fc.sample(
      name.filter((type) => validEventType(type) && !/\p{Cs}/u.test(type)),
      300,
    );
    for (const type of types) a.publish(type, 1);
    a.publish("fuzz.end", 1);
    await waitFor(() => got.includes("fuzz.end"), "the end marker", 10_000);
    record(context, {
      injected: "valid random unicode types (NATS)",
      sent: types.length,
      lost: types.length + 1 - got.length,
      duplicated: 0,
      reordered: 0,
    });
    expect(got).toEqual([...types, "fuzz.end"]);
  });
});

const noRedis = await skipWithout("redis-server", 6379);
describe.skipIf(noRedis)("raw messages on Redis (shared server, own namespace)", () => {
  const namespaces: string[] = [];
  const buses: EventBus[] = [];
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    const raw = new Redis("redis://127.0.0.1:6379");
    await deleteNamespaces(raw, namespaces);
    await raw.quit();
  });
  const bus = (namespace: string, transport: Transport = redisTransport({ namespace })) => {
    const created = new EventBus({ transport });
    buses.push(created);
    return created;
  };

  const document = fc.oneof(
    fc
      .record(
        {
          specversion: fc.constantFrom("1.0", "0.3", 1),
          id: fc.constantFrom("x", "", 7),
          type: fc.constantFrom(TYPE, "other", ""),
          source: fc.constantFrom("fuzz", "", null),
          datacontenttype: fc.constantFrom("application/json", "text/plain", 5),
          data: fc.jsonValue(),
          data_base64: fc.constantFrom("aGk=", "!!", 12, null),
          __proto__: fc.constant({ polluted: "yes" }),
          constructor: fc.constant({ prototype: { polluted: "yes" } }),
        },
        { requiredKeys: [] },
      )
      .map((doc) => JSON.stringify(doc).replace('"["__proto__"]"', '"__proto__"')),
    fc.json(),
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      '{"specversion":"1.0","id":"x","type":"fuzz.wire","source":"s","data":{"a":',
      "{",
      "",
      "null",
    ),
  );

  it("each is delivered as plain data or dropped with a line", async (context) => {
    const namespace = uniqueNamespace("fuzz");
    namespaces.push(namespace);
    const raw = new Redis("redis://127.0.0.1:6379");
    const valid = (data: string, i: number) =>
      `{"specversion":"1.0","id":"p${i}","type":"${TYPE}","source":"fuzz","__proto__":{"polluted":"yes"},"data":${data}}`;
    const messages = [...fc.sample(document, FRAMES), ...POLLUTING_JSON.map(valid)];
    try {
      await fuzz(
        context,
        "raw CloudEvent documents (Redis)",
        bus(namespace),
        bus(namespace),
        messages.length,
        async (i) => {
          await raw.publish(`${namespace}.${TYPE}`, messages[i] as string);
        },
        POLLUTING_JSON.length,
      );
    } finally {
      await raw.quit();
    }
  });

  it("a huge publish is refused with a PayloadError; the next one goes", async (context) => {
    const namespace = uniqueNamespace("fuzz");
    namespaces.push(namespace);
    const [a, b] = [bus(namespace), bus(namespace)];
    const got: unknown[] = [];
    b.subscribe("big.>", (data) => got.push(data));
    await linked(b, a);
    const sizes = [1024 * 1024 + 1, 16 * 1024 * 1024];
    for (const size of sizes) expect(() => a.publish("big.one", "x".repeat(size))).toThrow(PayloadError);
    a.publish("big.small", "ok");
    await waitFor(() => got.length === 1, "the small event");
    record(context, {
      injected: "payloads of 1 MiB+1 and 16 MiB (Redis)",
      sent: sizes.length + 1,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: "huge ones refused with PayloadError",
    });
  });
});
