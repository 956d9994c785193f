/**
 * The conformance suite every transport runs, in-memory included: the semantics a program may
 * rely on whatever carries its events. Each transport's own test file adds only its specifics.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type Envelope,
  EventBus,
  NoResponderError,
  PayloadError,
  TimeoutError,
  type Transport,
} from "../../src/index.js";
import { barrier, linked, uniqueNamespace, waitFor } from "./helpers.js";

/** What a transport's test file provides to run the suite. */
export interface ConformanceHarness {
  /** A new transport on the shared medium, in the given namespace. */
  transport(namespace: string): Transport;
  /** Puts raw frames on the wire as a foreign publisher would: `frames` malformed ones, then none. */
  injectMalformed(namespace: string, eventType: string): Promise<number>;
  /** The payload size in bytes above which a publish must throw. */
  readonly maxPayload: number;
  teardown?(): Promise<void>;
}

/** Runs the suite; `setup` returns undefined to skip it (the reason was already reported). */
export function describeTransportConformance(
  name: string,
  setup: () => ConformanceHarness | Promise<ConformanceHarness>,
  options: { skip?: boolean } = {},
): void {
  describe.skipIf(options.skip === true)(`transport conformance: ${name}`, () => {
    let harness: ConformanceHarness;
    let buses: EventBus[] = [];
    let namespace = "";

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await harness?.teardown?.();
    });
    afterEach(async () => {
      await Promise.all(buses.map((bus) => bus.close()));
      buses = [];
      namespace = uniqueNamespace();
    });
    namespace = uniqueNamespace();

    async function busesOn(count: number, ns = namespace): Promise<EventBus[]> {
      const created = Array.from({ length: count }, () => new EventBus({ transport: harness.transport(ns) }));
      buses.push(...created);
      await Promise.all(created.map((bus) => bus.ready()));
      return created;
    }

    it("fans an event out to every bus, the publisher's own subscribers once", async () => {
      const [a, b, c] = (await busesOn(3)) as [EventBus, EventBus, EventBus];
      const got: Record<string, unknown[]> = { a: [], b: [], c: [] };
      a.subscribe("task.done", (data) => got.a?.push(data));
      b.subscribe("task.done", (data) => got.b?.push(data));
      c.subscribe("task.done", (data) => got.c?.push(data));
      await Promise.all([linked(b, a), linked(c, a)]);
      a.publish("task.done", { id: 1, tags: ["x"] });
      await Promise.all([barrier(b, a), barrier(c, a)]);
      expect(got).toEqual({
        a: [{ id: 1, tags: ["x"] }],
        b: [{ id: 1, tags: ["x"] }],
        c: [{ id: 1, tags: ["x"] }],
      });
    });

    it("has a subscription in place at the broker once ready() resolves", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const got: unknown[] = [];
      a.subscribe("ready.check", (data) => got.push(data));
      await a.ready();
      // No probe first: ready() alone must be enough for the very next publish to arrive.
      b.publish("ready.check", 1);
      await waitFor(() => got.length === 1, "the first event after ready()");
      expect(got).toEqual([1]);
    });

    it("matches * and > patterns across buses", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const seen: string[] = [];
      b.subscribe("task.*", (_data, envelope) => seen.push(`*:${envelope.type}`));
      b.subscribe("task.>", (_data, envelope) => seen.push(`>:${envelope.type}`));
      await linked(b, a);
      a.publish("task.done", 1);
      a.publish("task.step.one", 2);
      a.publish("other.done", 3);
      await barrier(b, a);
      expect(seen.sort()).toEqual([">:task.done", ">:task.step.one", "*:task.done"].sort());
    });

    it("gives each event to exactly one member of a group across buses", async () => {
      const [a, b, c] = (await busesOn(3)) as [EventBus, EventBus, EventBus];
      const byMember = [[], [], []] as number[][];
      [a, b, c].forEach((bus, index) => {
        bus.subscribe("job.run", (data) => byMember[index]?.push(data as number), { group: "workers" });
      });
      const plain: number[] = [];
      b.subscribe("job.run", (data) => plain.push(data as number));
      await Promise.all([linked(b, a), linked(c, a), linked(a, c)]);
      for (let i = 0; i < 30; i++) a.publish("job.run", i);
      await waitFor(() => byMember.flat().length >= 30 && plain.length === 30, "30 group deliveries");
      await Promise.all([barrier(b, a), barrier(c, a), barrier(a, c)]);
      expect(byMember.flat().sort((x, y) => x - y)).toEqual([...Array(30).keys()]);
      expect(plain).toEqual([...Array(30).keys()]);
    });

    it("answers a request from another bus, and carries the responder's error back", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      b.respond("math.double", (data) => {
        if (data === 0) throw new RangeError("zero is not allowed");
        return (data as number) * 2;
      });
      await linked(b, a);
      await expect(requestSoon(a, "math.double", 21)).resolves.toBe(42);
      const error = await a.request("math.double", 0, { timeout: 2000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "RangeError", message: "zero is not allowed" });
      // Another class than agent-bus's own is not rebuilt: an Error by name and message.
      expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
      // A thrown plain object arrives as its JSON, not "[object Object]".
      b.respond("math.odd", () => {
        throw { code: 42 };
      });
      await linked(b, a);
      await expect(requestSoon(a, "math.odd", 1)).rejects.toThrow('{"code":42}');
    });

    it("refuses a reply over the payload limit with PayloadError naming the type, and goes on answering", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      b.respond("big.reply", (data) => (data === "big" ? "x".repeat(harness.maxPayload + 1) : "small"));
      await linked(b, a);
      const error = await requestSoon(a, "big.reply", "big").catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "PayloadError" });
      // agent-bus's own errors come back as instances of their class, as from a local responder.
      expect(error).toBeInstanceOf(PayloadError);
      expect(String((error as Error).message)).toMatch(/"big\.reply".*the reply is \d+ bytes, over/u);
      await expect(a.request("big.reply", "fine", { timeout: 2000 })).resolves.toBe("small");
    });

    it("holds a request answered on the same bus to the wire's payload rules, as if it crossed", async () => {
      const [a] = (await busesOn(1)) as [EventBus];
      const replies: Record<string, unknown> = { bigint: 1n, error: new Error("lost"), fine: { ok: true } };
      a.respond("local.echo", (kind) => replies[kind as string]);
      await expect(a.request("local.echo", { n: 1n } as never, { timeout: 2000 })).rejects.toThrow(
        PayloadError,
      );
      for (const kind of ["bigint", "error"]) {
        await expect(a.request("local.echo", kind, { timeout: 2000 }), kind).rejects.toThrow(PayloadError);
      }
      await expect(a.request("local.echo", "fine", { timeout: 2000 })).resolves.toEqual({ ok: true });
    });

    it("rejects a request nobody answers with NoResponderError, a slow one with TimeoutError", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      await expect(a.request("nobody.home", 1, { timeout: 2000 })).rejects.toBeInstanceOf(NoResponderError);
      b.respond("slow.answer", () => new Promise(() => undefined));
      await linked(b, a);
      const error = await requestSoon(a, "slow.answer", 1, 150).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
    });

    it("keeps the order of each publisher", async () => {
      const [a, b, c] = (await busesOn(3)) as [EventBus, EventBus, EventBus];
      const got: string[] = [];
      b.subscribe("seq.>", (data, envelope) => got.push(`${envelope.type}:${data as number}`));
      await Promise.all([linked(b, a), linked(b, c)]);
      for (let i = 0; i < 200; i++) {
        a.publish("seq.a", i);
        c.publish("seq.c", i);
      }
      await Promise.all([barrier(b, a), barrier(b, c)]);
      for (const publisher of ["seq.a", "seq.c"]) {
        const numbers = got
          .filter((line) => line.startsWith(`${publisher}:`))
          .map((line) => Number(line.split(":")[1]));
        expect(numbers).toEqual([...Array(200).keys()]);
      }
    });

    it("delivers a local publish to a local subscriber exactly once (echoes dropped)", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const got: number[] = [];
      a.subscribe("echo.test", (data) => got.push(data as number));
      a.subscribe("echo.*", (data) => got.push((data as number) + 100));
      await linked(a, b);
      a.publish("echo.test", 1);
      await barrier(a, a === b ? a : b);
      await barrier(b, a);
      expect(got).toEqual([1, 101]);
    });

    it("tells echoes by origin whatever the event id: a caller's id, or another bus's", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const got: string[] = [];
      const ids: string[] = [];
      a.subscribe("echo.id", (data, envelope) => {
        got.push(data as string);
        ids.push(envelope.id);
      });
      await linked(a, b);
      a.publish("echo.id", "own id");
      a.publish("echo.id", "caller's id", { id: "caller-chosen-1" });
      await barrier(a, b);
      // b re-publishes a's event under a's id, as an idempotent relay would: it is b's event.
      b.publish("echo.id", "relayed", { id: ids[0] as string });
      await barrier(a, b);
      await barrier(b, a);
      expect(got).toEqual(["own id", "caller's id", "relayed"]);
      expect(ids).toEqual([ids[0], "caller-chosen-1", ids[0]]);
    });

    it("isolates namespaces", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const [other] = (await busesOn(1, uniqueNamespace("other"))) as [EventBus];
      const seen = { b: 0, other: 0 };
      b.subscribe("ns.check", () => seen.b++);
      other.subscribe("ns.check", () => seen.other++);
      await linked(b, a);
      a.publish("ns.check", null);
      await barrier(b, a);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual({ b: 1, other: 0 });
    });

    it("isolates namespaces that nest, both ways, without logging the other's events", async () => {
      // "<ns>.inner" nests in "<ns>": the inner event "task" and the outer event "inner.task"
      // share one subject or channel on a broker.
      const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
      try {
        const [outer, outerPublisher] = (await busesOn(2)) as [EventBus, EventBus];
        const [inner, innerPublisher] = (await busesOn(2, `${namespace}.inner`)) as [EventBus, EventBus];
        const seen: Record<string, string[]> = { outer: [], inner: [] };
        const record = (who: string) => (_data: unknown, envelope: Envelope) => {
          if (!envelope.type.startsWith("probe.")) seen[who]?.push(envelope.type);
        };
        outer.subscribe(">", record("outer"));
        outer.subscribe("inner.task", record("outer"));
        inner.subscribe(">", record("inner"));
        await Promise.all([linked(outer, outerPublisher), linked(inner, innerPublisher)]);
        innerPublisher.publish("task", 1);
        outerPublisher.publish("inner.task", 2);
        await Promise.all([barrier(outer, outerPublisher), barrier(inner, innerPublisher)]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(seen).toEqual({ outer: ["inner.task", "inner.task"], inner: ["task"] });
        const logged = warn.mock.calls
          .map((call) => String(call[0]))
          .filter((line) => line.includes("malformed"));
        expect(logged).toEqual([]);
      } finally {
        warn.mockRestore();
      }
    });

    it("drops malformed wire input with one log line each and keeps delivering", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
      try {
        const got: unknown[] = [];
        b.subscribe("bad.input", (data) => got.push(data));
        await linked(b, a);
        const malformed = await harness.injectMalformed(namespace, "bad.input");
        a.publish("bad.input", "good");
        await barrier(b, a);
        expect(got).toEqual(["good"]);
        const lines = warn.mock.calls
          .map((call) => String(call[0]))
          .filter((line) => line.includes("malformed"));
        expect(lines).toHaveLength(malformed);
        expect(lines[0]).toMatch(/bad\.input/u);
      } finally {
        warn.mockRestore();
      }
    });

    it("refuses a payload that cannot cross before any subscriber sees it", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const local: unknown[] = [];
      const remote: unknown[] = [];
      a.subscribe("payload.>", (data) => local.push(data));
      b.subscribe("payload.>", (data) => remote.push(data));
      await linked(b, a);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const bad: [string, unknown][] = [
        ["function", { run: () => 1 }],
        ["bigint", { n: 1n }],
        ["cycle", cycle],
        ["map", { m: new Map([[1, 2]]) }],
        ["large", "x".repeat(harness.maxPayload + 1)],
      ];
      for (const [kind, data] of bad) {
        expect(() => a.publish(`payload.${kind}`, data), kind).toThrow(PayloadError);
      }
      a.publish("payload.ok", { fine: true });
      await barrier(b, a);
      expect(local).toEqual([{ fine: true }]);
      expect(remote).toEqual([{ fine: true }]);
    });

    it("carries the envelope attributes and copies data instead of sharing it", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      let received: Envelope | undefined;
      b.subscribe("attrs.check", (_data, envelope) => {
        received = envelope;
      });
      await linked(b, a);
      const data = { nested: { list: [1, "two", null] } };
      a.publish("attrs.check", data, { id: "evt-1", correlationid: "c-1", traceparent: "00-abc-def-01" });
      await waitFor(() => received !== undefined, "the event");
      expect(received).toMatchObject({
        specversion: "1.0",
        id: "evt-1",
        type: "attrs.check",
        source: a.source,
        correlationid: "c-1",
        traceparent: "00-abc-def-01",
        data,
      });
      expect(received?.data).not.toBe(data);
      const bytes = new Uint8Array([0, 1, 2, 255]);
      let raw: unknown;
      b.subscribe("attrs.bytes", (value) => {
        raw = value;
      });
      await linked(b, a);
      a.publish("attrs.bytes", bytes);
      await waitFor(() => raw !== undefined, "the bytes");
      expect(raw).toBeInstanceOf(Uint8Array);
      expect([...(raw as Uint8Array)]).toEqual([0, 1, 2, 255]);
    });

    it("sends everything published before close() resolves", async () => {
      const [a, b] = (await busesOn(2)) as [EventBus, EventBus];
      const got: number[] = [];
      b.subscribe("drain.test", (data) => got.push(data as number));
      await linked(b, a);
      for (let i = 0; i < 100; i++) a.publish("drain.test", i);
      await a.close();
      await waitFor(() => got.length === 100, "100 events after close");
      expect(got).toEqual([...Array(100).keys()]);
    });
  });
}

/** Requests, retrying NoResponderError briefly: a responder's registration travels asynchronously. */
async function requestSoon(
  bus: EventBus,
  eventType: string,
  data: unknown,
  timeout = 2000,
): Promise<unknown> {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await bus.request(eventType, data, { timeout });
    } catch (error) {
      if (!(error instanceof NoResponderError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
