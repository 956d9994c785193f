import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EventBus, PayloadError } from "../../src/index.js";
import { natsTransport } from "../../src/transports/nats.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { skipWithout } from "./_broker.js";

const SERVER = "127.0.0.1:4222";
const skip = await skipWithout("nats-server", 4222);

describe.skipIf(skip)("nats transport specifics", () => {
  let raw: NatsConnection;
  const buses: EventBus[] = [];
  const streams: string[] = [];
  const busOn = async (namespace: string, options: Parameters<typeof natsTransport>[0] = {}) => {
    const bus = new EventBus({ transport: natsTransport({ servers: SERVER, namespace, ...options }) });
    buses.push(bus);
    await bus.ready();
    return bus;
  };
  const durableNamespace = () => {
    const namespace = uniqueNamespace("durable");
    streams.push(namespace);
    return namespace;
  };

  /** A durable consumer is created asynchronously; events before it exists are not its own. */
  const durableReady = async (stream: string, name: string) => {
    const jsm = await jetstreamManager(raw);
    const deadline = Date.now() + 10_000;
    while (
      !(await jsm.consumers.info(stream, name).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`durable consumer ${name} was not created within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  beforeAll(async () => {
    raw = await connect({ servers: SERVER });
  });
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    const jsm = await jetstreamManager(raw);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
    await raw.close();
  });

  it("puts CloudEvents attributes in headers and only the data in the body", async () => {
    const namespace = uniqueNamespace("wire");
    const bus = await busOn(namespace);
    const got: { subject: string; headers: Record<string, string>; body: string }[] = [];
    const sub = raw.subscribe(`${namespace}.>`, {
      callback: (_e, msg) => {
        const headers: Record<string, string> = {};
        for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers?.get(key) ?? "";
        got.push({ subject: msg.subject, headers, body: msg.string() });
      },
    });
    await raw.flush();
    bus.publish("task.done", { id: 7 }, { id: "e-1", correlationid: "c-1" });
    bus.publish("blob.raw", new Uint8Array([104, 105]));
    await waitFor(() => got.length === 2, "two raw messages");
    sub.unsubscribe();
    expect(got[0]).toMatchObject({
      subject: `${namespace}.task.done`,
      body: '{"id":7}',
      headers: {
        "ce-specversion": "1.0",
        "ce-id": "e-1",
        "ce-type": "task.done",
        "ce-source": bus.source,
        "ce-correlationid": "c-1",
        "content-type": "application/json",
      },
    });
    expect(got[0]?.headers["ce-agentbusorigin"]).toBeTruthy();
    expect(got[1]).toMatchObject({ body: "hi", headers: { "content-type": "application/octet-stream" } });
  });

  it("refuses a payload over the server's max_payload with a PayloadError", async () => {
    const bus = await busOn(uniqueNamespace("size"));
    const max = raw.info?.max_payload ?? 0;
    expect(max).toBeGreaterThan(0);
    expect(() => bus.publish("too.big", "x".repeat(max))).toThrow(PayloadError);
  });

  it("delivers to a durable subscriber, on its return, everything published while it was away, in order", async () => {
    const namespace = durableNamespace();
    const publisher = await busOn(namespace);
    const first = await busOn(namespace);
    const seen: number[] = [];
    first.subscribe("order.placed", (n) => seen.push(n as number), { durable: "billing" });
    await durableReady(namespace, "billing");
    publisher.publish("order.placed", -1);
    await waitFor(() => seen.length === 1, "the first durable delivery", 10_000);
    await first.close();
    for (let i = 0; i < 50; i++) publisher.publish("order.placed", i);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const back = await busOn(namespace);
    const caught: number[] = [];
    back.subscribe("order.placed", (n) => caught.push(n as number), { durable: "billing" });
    await waitFor(() => caught.length >= 50, "50 events caught up", 10_000);
    expect(caught).toEqual([...Array(50).keys()]);
  });

  it("has a durable consumer in place once ready() resolves", async () => {
    const namespace = durableNamespace();
    const publisher = await busOn(namespace);
    const consumer = new EventBus({ transport: natsTransport({ servers: SERVER, namespace }) });
    buses.push(consumer);
    const got: unknown[] = [];
    consumer.subscribe("order.placed", (data) => got.push(data), { durable: "ready-check" });
    await consumer.ready();
    // No durableReady() here: ready() alone must cover the consumer's creation.
    publisher.publish("order.placed", 1);
    await waitFor(() => got.length === 1, "the first event after ready()", 10_000);
    expect(got).toEqual([1]);
  });

  it("redelivers a failing event up to maxDeliver, then publishes bus.deadletter with the error", async () => {
    const namespace = durableNamespace();
    const bus = await busOn(namespace, { maxDeliver: 3 });
    const watcher = await busOn(namespace);
    const letters: unknown[] = [];
    watcher.subscribe("bus.deadletter", (data) => letters.push(data));
    let attempts = 0;
    const errors: unknown[] = [];
    const failing = new EventBus({
      transport: natsTransport({ servers: SERVER, namespace, maxDeliver: 3 }),
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
    await linked(watcher, bus);
    await durableReady(namespace, "flaky");
    bus.publish("job.flaky", { n: 1 }, { id: "job-1" });
    await waitFor(() => letters.length === 1, "the dead letter", 10_000);
    expect(attempts).toBe(3);
    expect(errors).toHaveLength(3);
    expect(letters[0]).toMatchObject({
      consumer: "flaky",
      deliveries: 3,
      event: { id: "job-1", type: "job.flaky", data: { n: 1 } },
    });
    expect((letters[0] as { error: { message: string } }).error).toEqual({ name: "Error", message: "boom" });
  });

  it("drops a re-published event id once JetStream stored it (acks: true)", async () => {
    const namespace = durableNamespace();
    const publisher = await busOn(namespace, { acks: true });
    const consumer = await busOn(namespace);
    const got: string[] = [];
    consumer.subscribe("pay.once", (_d, envelope) => got.push(envelope.id), { durable: "payments" });
    await durableReady(namespace, "payments");
    for (const id of ["p-1", "p-1", "p-2", "p-1", "p-2"]) publisher.publish("pay.once", null, { id });
    await waitFor(() => got.length >= 2, "two payments", 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(got).toEqual(["p-1", "p-2"]);
  });
  it("says why a nested namespace gets no stream of its own, and an outer durable skips its events without a word", async () => {
    const outerNamespace = durableNamespace();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const lines = () => warn.mock.calls.map((call) => String(call[0]));
    try {
      const outer = await busOn(outerNamespace);
      const got: string[] = [];
      outer.subscribe(">", (_data, envelope) => got.push(envelope.type), { durable: "everything" });
      await outer.ready();
      await durableReady(outerNamespace, "everything");
      // "<outer>.inner" nests in "<outer>": the outer stream already holds its subjects.
      const inner = await busOn(`${outerNamespace}.inner`);
      inner.subscribe("task", () => undefined, { durable: "inner-tasks" });
      await expect(inner.ready()).rejects.toThrow(
        /subscription to "task" \(durable "inner-tasks"\) not in place: .*cannot create the JetStream stream/u,
      );
      await waitFor(
        () => lines().some((line) => line.includes("cannot create the JetStream stream")),
        "the overlap",
      );
      const reason = lines().find((line) => line.includes("cannot create the JetStream stream")) ?? "";
      expect(reason).toContain(`"${outerNamespace}.inner.>"`);
      expect(reason).toMatch(/namespaces that do not nest/u);
      // The inner event lands in the outer stream (same subject space); the outer durable skips it.
      inner.publish("task", 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const sender = await busOn(outerNamespace);
      sender.publish("after", 2);
      await waitFor(() => got.includes("after"), "the outer durable's own event", 10_000);
      expect(got).toEqual(["after"]);
      expect(lines().filter((line) => line.includes("malformed"))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});
