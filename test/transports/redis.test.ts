import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EventBus, TransportError } from "../../src/index.js";
import { Routes } from "../../src/transports/_redis-routes.js";
import { RedisNames } from "../../src/transports/_redis-wire.js";
import { redisTransport } from "../../src/transports/redis.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { skipWithout } from "./_broker.js";
import { freePort } from "./_processes.js";
import { deleteNamespaces } from "./_redis.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const run = promisify(execFile);
const skip = await skipWithout("redis-server", 6379);

describe.skipIf(skip)("redis transport specifics", () => {
  let raw: Redis;
  const buses: EventBus[] = [];
  const namespaces = new Set<string>();
  const namespace = (prefix: string) => {
    const name = uniqueNamespace(prefix);
    namespaces.add(name);
    return name;
  };
  const busOn = async (ns: string, options: Parameters<typeof redisTransport>[0] = {}) => {
    const bus = new EventBus({ transport: redisTransport({ url: REDIS_URL, namespace: ns, ...options }) });
    buses.push(bus);
    await bus.ready();
    return bus;
  };

  beforeAll(() => {
    raw = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    await deleteNamespaces(raw, namespaces);
    await raw.quit();
  });

  it("publishes structured CloudEvents JSON that a plain Redis client reads", async () => {
    const ns = namespace("wire");
    const bus = await busOn(ns);
    const listener = raw.duplicate();
    const got: { channel: string; event: Record<string, unknown> }[] = [];
    listener.on("pmessage", (_p: string, channel: string, message: string) =>
      got.push({ channel, event: JSON.parse(message) as Record<string, unknown> }),
    );
    await listener.psubscribe(`${ns}.*`);
    bus.publish("task.done", { id: 7 }, { id: "e-1", correlationid: "c-1" });
    bus.publish("blob.raw", new Uint8Array([104, 105]));
    await waitFor(() => got.length === 2, "two raw messages");
    await listener.quit();
    expect(got[0]).toEqual({
      channel: `${ns}.task.done`,
      event: {
        specversion: "1.0",
        id: "e-1",
        type: "task.done",
        source: bus.source,
        time: expect.any(String),
        correlationid: "c-1",
        datacontenttype: "application/json",
        agentbusorigin: expect.any(String),
        data: { id: 7 },
      },
    });
    expect(got[1]?.event).toMatchObject({ datacontenttype: "application/octet-stream", data_base64: "aGk=" });
    expect(got[1]?.event).not.toHaveProperty("data");
  });

  it("accepts events from a foreign publisher without the origin attribute", async () => {
    const ns = namespace("foreign");
    const bus = await busOn(ns);
    const got: unknown[] = [];
    bus.subscribe("py.event", (data, envelope) => got.push([data, envelope.source]));
    await bus.ready();
    const event = { specversion: "1.0", id: "1", type: "py.event", source: "python", data: [1, 2] };
    await raw.publish(`${ns}.py.event`, JSON.stringify(event));
    await waitFor(() => got.length === 1, "the foreign event");
    expect(got).toEqual([[[1, 2], "python"]]);
  });

  it("keeps token semantics for * and > although Redis globs ignore dots", async () => {
    const ns = namespace("tokens");
    const [sub, pub] = [await busOn(ns), await busOn(ns)];
    const seen: string[] = [];
    for (const pattern of ["task.*", "task.>", "a.*.c", "odd.[ab].*", "q.?.>"])
      sub.subscribe(pattern, (_d, envelope) => seen.push(`${pattern} ${envelope.type}`));
    await linked(sub, pub);
    // Redis glob characters in a type are literal, as everywhere else on the bus.
    const types = [
      "task",
      "task.x",
      "task.x.y",
      "a.b.c",
      "a.b.d.c",
      "odd.a.x",
      "odd.[ab].x",
      "q.z.z",
      "q.?.z",
    ];
    for (const type of types) pub.publish(type, null);
    await linked(sub, pub);
    expect(seen.sort()).toEqual(
      [
        "task.* task.x",
        "task.> task.x",
        "task.> task.x.y",
        "a.*.c a.b.c",
        "odd.[ab].* odd.[ab].x",
        "q.?.> q.?.z",
      ].sort(),
    );
  });

  it("keeps plain publishes off the stream until a group or durable subscription wants them", async () => {
    const ns = namespace("cheap");
    const pub = await busOn(ns);
    for (let i = 0; i < 20; i++) pub.publish("plain.event", i);
    const sub = await busOn(ns);
    sub.subscribe("kept.*", () => undefined, { durable: "keeper" });
    await linked(pub, sub);
    pub.publish("plain.event", 20);
    pub.publish("kept.one", 1);
    await linked(sub, pub);
    const entries = await raw.xrange(`${ns}:stream`, "-", "+");
    expect(entries.map(([, fields]) => fields[1])).toEqual(["kept.one"]);
  });

  it("keeps a route announced while the route hash is being read (the reply predates it)", async () => {
    const names = new RedisNames(namespace("routes"));
    const routes = new Routes(names, { maxLength: 1000, duplicateWindow: 0 });
    // The hash is empty when read; the group's announcement arrives before the reply is handled,
    // as after a Redis restart without persistence, when a durable group rejoins.
    const loading = routes.load(raw);
    routes.heard(JSON.stringify({ group: "durable:kept:kept.*", route: "0 kept.*" }));
    await loading;
    expect(routes.wanted("kept.event")).toBe(true);
    // A later read of the hash, with the route still absent from it, replaces the copy as before.
    await routes.load(raw);
    expect(routes.wanted("kept.event")).toBe(false);
  });

  it("delivers to a durable subscriber, on its return, everything published while it was away, in order", async () => {
    const ns = namespace("durable");
    const publisher = await busOn(ns);
    const first = await busOn(ns);
    const seen: number[] = [];
    first.subscribe("order.placed", (n) => seen.push(n as number), { durable: "billing" });
    await linked(publisher, first);
    publisher.publish("order.placed", -1);
    await waitFor(() => seen.length === 1, "the first durable delivery");
    await first.close();
    // It left its consumer group (nothing pending): groups do not collect one consumer per bus.
    expect(await raw.xinfo("CONSUMERS", `${ns}:stream`, "durable:billing:order.placed")).toEqual([]);
    for (let i = 0; i < 50; i++) publisher.publish("order.placed", i);
    const back = await busOn(ns);
    const caught: number[] = [];
    back.subscribe("order.placed", (n) => caught.push(n as number), { durable: "billing" });
    await waitFor(() => caught.length >= 50, "50 events caught up");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(caught).toEqual([...Array(50).keys()]);
  });

  it("keeps durables of one name on different patterns apart", async () => {
    const ns = namespace("samename");
    const [a, b] = [await busOn(ns), await busOn(ns)];
    const got = { a: [] as string[], b: [] as string[] };
    a.subscribe("left.*", (_d, envelope) => got.a.push(envelope.type), { durable: "audit" });
    b.subscribe("right.*", (_d, envelope) => got.b.push(envelope.type), { durable: "audit" });
    await linked(a, b);
    await linked(b, a);
    for (let i = 0; i < 5; i++) a.publish(i % 2 === 0 ? "left.x" : "right.x", i);
    await waitFor(() => got.a.length + got.b.length === 5, "five durable deliveries");
    expect(got).toEqual({ a: ["left.x", "left.x", "left.x"], b: ["right.x", "right.x"] });
  });

  it("redelivers a failing event up to maxDeliver, then publishes bus.deadletter with the error", async () => {
    const ns = namespace("dead");
    const publisher = await busOn(ns);
    const letters: unknown[] = [];
    publisher.subscribe("bus.deadletter", (data) => letters.push(data));
    let attempts = 0;
    const errors: unknown[] = [];
    const failing = new EventBus({
      transport: redisTransport({ url: REDIS_URL, namespace: ns, maxDeliver: 3 }),
      onError: (error) => errors.push(error),
    });
    buses.push(failing);
    failing.subscribe(
      "job.flaky",
      () => {
        attempts++;
        throw new Error("boom");
      },
      { durable: "flaky" },
    );
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await linked(publisher, failing);
      publisher.publish("job.flaky", { n: 1 }, { id: "job-1" });
      await waitFor(() => letters.length === 1, "the dead letter", 10_000);
    } finally {
      warn.mockRestore();
    }
    expect(attempts).toBe(3);
    expect(errors).toHaveLength(3);
    expect(letters[0]).toEqual({
      consumer: "flaky",
      deliveries: 3,
      error: { name: "Error", message: "boom" },
      event: expect.objectContaining({ id: "job-1", type: "job.flaky", data: { n: 1 } }),
    });
    expect(await raw.xpending(`${ns}:stream`, "durable:flaky:job.flaky")).toEqual([0, null, null, null]);
  });

  it("takes over an entry a dead consumer left pending (XAUTOCLAIM after ackWait)", async () => {
    const ns = namespace("claim");
    const first = await busOn(ns);
    first.subscribe("work.item", () => undefined, { durable: "workers" });
    await first.ready();
    await first.close();
    const event = { specversion: "1.0", id: "w-1", type: "work.item", source: "test", data: "stuck" };
    await raw.xadd(`${ns}:stream`, "*", "type", "work.item", "event", JSON.stringify(event));
    // A consumer reads the entry and dies without acknowledging it.
    await raw.xreadgroup(
      "GROUP",
      "durable:workers:work.item",
      "dead-consumer",
      "COUNT",
      1,
      "STREAMS",
      `${ns}:stream`,
      ">",
    );
    const got: unknown[] = [];
    const back = await busOn(ns, { ackWait: 300 });
    back.subscribe("work.item", (data) => got.push(data), { durable: "workers" });
    await waitFor(() => got.length === 1, "the claimed entry");
    expect(got).toEqual(["stuck"]);
    let pending: unknown[] = [];
    for (let i = 0; i < 50 && pending[0] !== 0; i++) {
      pending = await raw.xpending(`${ns}:stream`, "durable:workers:work.item");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(pending[0]).toBe(0);
  });

  it("closes a bus whose durable callback never settles; the entry goes to the next consumer", async () => {
    const ns = namespace("hung");
    const hung = await busOn(ns, { ackWait: 300 });
    let called = 0;
    hung.subscribe(
      "slow.job",
      () => {
        called++;
        return new Promise(() => undefined);
      },
      { durable: "slow" },
    );
    await hung.ready();
    hung.publish("slow.job", "j-1");
    await waitFor(() => called === 1, "the hung delivery");
    const started = Date.now();
    await hung.close();
    expect(Date.now() - started).toBeLessThan(2000);
    // Its consumer's connection is closed too, after at most ackWait.
    const consumers = async () =>
      String(await raw.call("CLIENT", "LIST"))
        .split("\n")
        .filter((line: string) => line.includes(`name=agent-bus:${ns}:durable:slow:slow.job`));
    let left = await consumers();
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = await consumers();
    }
    expect(left).toEqual([]);
    const got: unknown[] = [];
    const next = await busOn(ns, { ackWait: 300 });
    next.subscribe("slow.job", (data) => got.push(data), { durable: "slow" });
    await waitFor(() => got.length === 1, "the entry claimed from the closed bus");
    expect(got).toEqual(["j-1"]);
  });

  it("drops a malformed stream entry with one log line and delivers the next", async () => {
    const ns = namespace("badentry");
    const bus = await busOn(ns);
    const got: unknown[] = [];
    bus.subscribe("audit.entry", (data) => got.push(data), { durable: "audit" });
    await bus.ready();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await raw.xadd(`${ns}:stream`, "*", "type", "audit.entry", "event", "{broken");
      // Without the type field, an entry is filtered by its event's type.
      const other = { specversion: "1.0", id: "o-1", type: "other.entry", source: "test", data: 1 };
      await raw.xadd(`${ns}:stream`, "*", "event", JSON.stringify(other));
      bus.publish("audit.entry", "good");
      await waitFor(() => got.length === 1, "the good entry");
      const lines = warn.mock.calls
        .map((call) => String(call[0]))
        .filter((line: string) => line.includes("malformed"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/badentry.*audit/u);
    } finally {
      warn.mockRestore();
    }
    expect(got).toEqual(["good"]);
  });

  it("stores a re-published event id once within the dedupe window", async () => {
    const ns = namespace("dedupe");
    const bus = await busOn(ns);
    const got: string[] = [];
    bus.subscribe("pay.once", (_d, envelope) => got.push(envelope.id), { durable: "payments" });
    await bus.ready();
    for (const id of ["p-1", "p-1", "p-2", "p-1", "p-2"]) bus.publish("pay.once", null, { id });
    await waitFor(() => got.length >= 2, "two payments");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(got).toEqual(["p-1", "p-2"]);
  });

  it("runs one responder per request when several buses answer the type", async () => {
    const ns = namespace("rpc");
    const [a, b, c] = [await busOn(ns), await busOn(ns), await busOn(ns)];
    const answered: string[] = [];
    b.respond("who.answers", () => {
      answered.push("b");
      return "b";
    });
    c.respond("who.answers", () => {
      answered.push("c");
      return "c";
    });
    await Promise.all([b.ready(), c.ready()]);
    const replies = await Promise.all(Array.from({ length: 10 }, () => a.request("who.answers", null)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toHaveLength(10);
    expect(replies).toHaveLength(10);
  });

  it("fails ready() with a TransportError naming the URL when nothing listens", async () => {
    const url = `redis://:secret@127.0.0.1:${await freePort()}`;
    const bus = new EventBus({ transport: redisTransport({ url, retryStrategy: () => null }) });
    const error = await bus.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(String(error)).toMatch(/cannot connect to redis:\/\/:\*\*\*@127\.0\.0\.1/u);
    expect(String(error)).toMatch(/ECONNREFUSED/u);
    expect(String(error)).not.toMatch(/secret/u);
    await bus.close();
  });

  it("keeps its streams in the URL's database, and fails ready() when the server refuses that number", async () => {
    const ns = namespace("db");
    const url = "redis://127.0.0.1:6379/3";
    const bus = new EventBus({ transport: redisTransport({ url, namespace: ns }) });
    buses.push(bus);
    bus.subscribe("job.run", () => undefined, { group: "workers" });
    await bus.ready();
    bus.publish("job.run", { n: 1 });
    const inDb3 = raw.duplicate({ db: 3 });
    try {
      let found = 0;
      for (let tries = 0; tries < 250 && found === 0; tries++) {
        found = await inDb3.exists(`${ns}:stream`);
        if (found === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(found).toBe(1);
      expect(await raw.exists(`${ns}:stream`)).toBe(0);
    } finally {
      await bus.close();
      await deleteNamespaces(inDb3, [ns]);
      await inDb3.quit();
    }
    // A server has 16 databases by default: ioredis alone would log the refusal and use database 0.
    const refused = new EventBus({
      transport: redisTransport({ url: "redis://127.0.0.1:6379/99", namespace: namespace("db") }),
    });
    const error = await refused.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(String(error)).toMatch(
      /cannot connect to redis:\/\/127\.0\.0\.1:6379\/99: ERR DB index is out of range/u,
    );
    await refused.close();
  });

  it("rejects bad options with a TypeError naming them", () => {
    expect(() => redisTransport({ namespace: "a b" })).toThrow(/namespace/u);
    expect(() => redisTransport({ maxLength: 0 })).toThrow(/maxLength must be a positive integer, got 0/u);
    expect(() => redisTransport({ disconnected: "drop" as "reject" })).toThrow(/disconnected/u);
    expect(() => redisTransport({ bufferBytes: -1 })).toThrow(
      /bufferBytes must be a non-negative integer, got -1/u,
    );
    expect(() => redisTransport({ bufferBytes: 1.5 })).toThrow(/bufferBytes .* got 1\.5/u);
    expect(() => redisTransport({ url: "::not a url::" })).toThrow(
      /^url must be a redis:\/\/ or rediss:\/\/ URL, got "::not a url::"$/u,
    );
    expect(() => redisTransport({ url: "http://alice:pw@127.0.0.1:6379" })).toThrow(
      /got "http:\/\/alice:\*\*\*@127\.0\.0\.1:6379"$/u,
    );
    expect(() => redisTransport({ url: "rediss://127.0.0.1:6380" })).not.toThrow();
    expect(() => redisTransport({ url: "redis://127.0.0.1:6379/queue" })).toThrow(
      /^url's path must be a database number \(redis:\/\/host:port\/2\), got "redis:\/\/127\.0\.0\.1:6379\/queue"$/u,
    );
    expect(() => redisTransport({ url: "redis://127.0.0.1:6379/2" })).not.toThrow();
  });
});

describe("redis transport without ioredis installed", () => {
  it("rejects ready() with a TransportError naming the package to install", async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
    // The hook hiding ioredis is registered after tsx's, so it is asked first.
    const args = [
      "--import",
      "tsx",
      "--import",
      fixture("no-ioredis.mjs"),
      fixture("redis-without-client.ts"),
    ];
    const { stdout } = await run(process.execPath, args, { timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({
      name: "TransportError",
      message: "[EventBus:redis] redisTransport needs the Redis client: npm install ioredis",
    });
  });
});
