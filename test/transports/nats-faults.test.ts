/**
 * Faults against real processes: an own nats-server (killed and restarted), Node child peers.
 * Skipped without nats-server on PATH unless AGENT_BUS_REQUIRE_BROKERS=1.
 */
import { mkdirSync, rmSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/index.js";
import { natsTransport } from "../../src/transports/nats.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { onPath } from "./_broker.js";
import { durablePeer, expectDurableCatchUp, expectPeersExchange } from "./_peer-scenarios.js";
import { freePort, OwnNatsServer, type Peer } from "./_processes.js";

const hasServer = onPath("nats-server", "the NATS fault tests");

const fast = { reconnectTimeWait: 100, maxReconnectAttempts: -1 } as const;

// These tests kill and restart a broker and wait for clients to notice, on a 2-core machine that
// runs the rest of the suite beside them: a run that loses the race against the clock is tried
// again, up to twice. A broken recovery fails all three attempts.
const FAULT_TIMING = { retry: 2 } as const;

describe.skipIf(!hasServer)("nats faults with an own server", FAULT_TIMING, () => {
  let server: OwnNatsServer;
  const buses: EventBus[] = [];
  const peers: Peer[] = [];
  const busOn = async (namespace: string, options: Parameters<typeof natsTransport>[0] = {}) => {
    const bus = new EventBus({
      transport: natsTransport({ servers: server.url, namespace, ...fast, ...options }),
    });
    buses.push(bus);
    await bus.ready();
    return bus;
  };
  const consumerExists = async (stream: string, name: string) => {
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 10_000;
    while (
      !(await jsm.consumers.info(stream, name).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`consumer ${name} missing after 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await nc.close();
  };

  beforeAll(async () => {
    server = new OwnNatsServer(await freePort());
    await server.start();
  });
  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop("SIGKILL")));
    await Promise.all(buses.map((bus) => bus.close().catch(() => undefined)));
    await server?.dispose();
  });

  it("restart while publishing: live loss is counted, durable loses and duplicates nothing", async () => {
    const namespace = uniqueNamespace("restart");
    const publisher = await busOn(namespace, { acks: true });
    const livePublisher = await busOn(namespace);
    const subscriber = await busOn(namespace);
    const live: number[] = [];
    const durable: number[] = [];
    subscriber.subscribe("live.tick", (n) => live.push(n as number));
    subscriber.subscribe("durable.tick", (n) => durable.push(n as number), { durable: "ticks" });
    await linked(subscriber, livePublisher);
    await consumerExists(namespace, "ticks");
    const total = 400;
    for (let i = 0; i < total; i++) {
      publisher.publish("durable.tick", i, { id: `tick-${i}` });
      livePublisher.publish("live.tick", i);
      if (i === 150) await server.kill();
      if (i === 200) await server.start();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor(() => new Set(durable).size === total, `${total} durable events`, 30_000);
    const duplicates = durable.length - new Set(durable).size;
    const stored = await storedCount(server.url, namespace, "durable.tick");
    console.log(
      `[nats restart] live: ${live.length}/${total} delivered, ${total - live.length} lost; durable: ${new Set(durable).size}/${total} delivered, ${duplicates} redelivered, ${stored} stored`,
    );
    expect(stored).toBe(total);
    expect([...new Set(durable)].sort((a, b) => a - b)).toEqual([...Array(total).keys()]);
    expect(live.length).toBeLessThanOrEqual(total);
  }, 45_000);

  it("while disconnected: buffers up to the byte cap and sends on reconnect, or rejects", async () => {
    const namespace = uniqueNamespace("offline");
    const states: string[] = [];
    const make = (options: Parameters<typeof natsTransport>[0]) => {
      const bus = new EventBus({
        transport: natsTransport({ servers: server.url, namespace, ...fast, ...options }),
        onStatus: (status) => states.push(`${options?.disconnected}:${status.state}`),
      });
      buses.push(bus);
      return bus;
    };
    const buffering = make({ disconnected: "buffer", bufferBytes: 100 });
    const rejecting = make({ disconnected: "reject" });
    const durable = await busOn(namespace);
    durable.subscribe("offline.>", () => undefined, { durable: "offline" });
    await Promise.all([buffering.ready(), rejecting.ready(), consumerExists(namespace, "offline")]);
    await server.kill();
    await waitFor(
      () => states.includes("buffer:disconnected") && states.includes("reject:disconnected"),
      "disconnects",
    );
    expect(() => rejecting.publish("offline.rejected", 1)).toThrow(/disconnected: "reject"/u);
    for (let i = 0; i < 10; i++) buffering.publish("offline.held", i);
    expect(() => buffering.publish("offline.held", "x".repeat(100))).toThrow(/bufferBytes/u);
    await server.start();
    const reconnects = () => states.filter((state) => state === "buffer:connected").length;
    await waitFor(() => reconnects() === 2, "the buffering bus to reconnect", 10_000);
    let stored = 0;
    const deadline = Date.now() + 5000;
    while (stored < 10 && Date.now() < deadline)
      stored = await storedCount(server.url, namespace, "offline.held");
    expect(stored).toBe(10);
  }, 30_000);

  it("a durable subscriber killed and restarted catches up in order", async () => {
    const namespace = uniqueNamespace("catchup");
    const publisher = await busOn(namespace);
    const first = await durablePeer(server.url, namespace, "audit-1", peers);
    await consumerExists(namespace, "audit");
    await expectDurableCatchUp(first, publisher, server.url, namespace, peers);
  }, 40_000);

  it("two Node processes exchange events, share group deliveries and answer each other's requests", async () => {
    await expectPeersExchange(server.url, uniqueNamespace("peers"), peers, busOn);
  }, 40_000);

  it("when the client gives up reconnecting: status closed with why, held publishes dropped, new ones refused", async () => {
    // A server of its own: this one is not started again.
    const lone = new OwnNatsServer(await freePort());
    await lone.start();
    const states: { state: string; error?: unknown }[] = [];
    const bus = new EventBus({
      transport: natsTransport({
        servers: lone.url,
        namespace: uniqueNamespace("giveup"),
        reconnectTimeWait: 50,
        maxReconnectAttempts: 2,
      }),
      onStatus: (status) => states.push(status),
    });
    buses.push(bus);
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => warned.push(message);
    try {
      await bus.ready();
      await lone.dispose();
      await waitFor(() => states.some((s) => s.state === "disconnected"), "the disconnect");
      bus.publish("giveup.held", 1);
      await waitFor(() => states.some((s) => s.state === "closed"), "the client to give up", 10_000);
      const closed = states.find((s) => s.state === "closed");
      expect(String(closed?.error)).toMatch(/stopped reconnecting/u);
      expect(warned.some((line) => /stopped reconnecting.*1 held publish\(es\) dropped/u.test(line))).toBe(
        true,
      );
      expect(() => bus.publish("giveup.after", 2)).toThrow(/refused: the connection is closed/u);
      // ready() no longer says the transport is there.
      await expect(bus.ready()).rejects.toThrow(/the connection closed for good: .*stopped reconnecting/u);
    } finally {
      console.warn = warn;
    }
  }, 20_000);
});

describe.skipIf(!hasServer)("nats close() without a server", () => {
  const closing = (bus: EventBus) =>
    Promise.race([
      bus.close().then(
        () => "closed",
        (error: unknown) => `rejected: ${String(error)}`,
      ),
      new Promise((resolve) => setTimeout(resolve, 8000, "still closing after 8 s")),
    ]);

  it("resolves while the server is down, durable subscription included (the drain it cannot do is logged)", async () => {
    const lone = new OwnNatsServer(await freePort());
    await lone.start();
    const warn = console.warn;
    const warned: string[] = [];
    console.warn = (message: string) => warned.push(message);
    try {
      const bus = new EventBus({
        transport: natsTransport({ servers: lone.url, namespace: uniqueNamespace("downclose"), ...fast }),
      });
      bus.subscribe("down.x", () => undefined, { durable: "down" });
      await bus.ready();
      await lone.dispose();
      expect(await closing(bus)).toBe("closed");
    } finally {
      console.warn = warn;
      await lone.dispose();
    }
  }, 30_000);

  it("returns when the bus closes while it waits for a first connect (waitOnFirstConnect)", async () => {
    const port = await freePort();
    const bus = new EventBus({
      // Attempts bounded (~3 s), so that nats.js, which cannot be stopped, ends its dialling.
      transport: natsTransport({
        servers: `nats://127.0.0.1:${port}`,
        waitOnFirstConnect: true,
        reconnectTimeWait: 100,
        maxReconnectAttempts: 30,
      }),
    });
    const ready = bus.ready().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await closing(bus)).toBe("closed");
    expect(String(await ready)).toMatch(/the bus closed before the server answered/u);
  }, 20_000);
});

describe.skipIf(!hasServer)("nats durable after the server lost its JetStream state", FAULT_TIMING, () => {
  it("creates the stream and consumer again and delivers what is published after", async () => {
    const own = new OwnNatsServer(await freePort());
    await own.start();
    const namespace = uniqueNamespace("stateloss");
    const made: EventBus[] = [];
    const warn = console.warn;
    const warned: string[] = [];
    console.warn = (message: string) => warned.push(message);
    try {
      const make = async () => {
        const bus = new EventBus({ transport: natsTransport({ servers: own.url, namespace, ...fast }) });
        made.push(bus);
        await bus.ready();
        return bus;
      };
      const subscriber = await make();
      const publisher = await make();
      const got: unknown[] = [];
      subscriber.subscribe("stateloss.>", (data) => got.push(data), { durable: "audit" });
      await subscriber.ready();
      publisher.publish("stateloss.one", 1, { id: "before" });
      await waitFor(() => got.length === 1, "the first event");
      // The same port, an empty store: the stream and its consumer are gone.
      await own.kill();
      rmSync(own.store, { recursive: true, force: true });
      mkdirSync(own.store);
      await own.start();
      await waitFor(
        () => warned.some((line) => /durable "audit" on "stateloss.>" is back/u.test(line)),
        "the consumer to be back",
        20_000,
      );
      expect(warned.some((line) => /(stream|consumer) is gone from the server/u.test(line))).toBe(true);
      for (let i = 2; i <= 4; i++) publisher.publish("stateloss.after", i);
      await waitFor(() => got.length === 4, "the events published after", 10_000);
      expect(got).toEqual([1, 2, 3, 4]);
    } finally {
      console.warn = warn;
      await Promise.all(made.map((bus) => bus.close().catch(() => undefined)));
      await own.dispose();
    }
  }, 40_000);
});

describe("nats connection failures, no server needed", () => {
  it("a bus whose transport never connected refuses publishes, naming why, and keeps nothing", async () => {
    const bus = new EventBus({
      transport: natsTransport({ servers: "nats://alice:s3cretPW@127.0.0.1:1", maxReconnectAttempts: 0 }),
    });
    const seen: unknown[] = [];
    bus.subscribe("never.sent", (data) => seen.push(data));
    const failure = await bus.ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(failure)).toMatch(/cannot connect to nats:\/\/alice:\*\*\*@127\.0\.0\.1:1/u);
    expect(String(failure)).not.toMatch(/s3cretPW/u);
    expect(() => bus.publish("never.sent", 1)).toThrow(
      /cannot publish "never\.sent": the transport did not connect/u,
    );
    expect(seen).toEqual([]);
    await bus.close();
  });
});

async function storedCount(url: string, stream: string, type: string): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream, { subjects_filter: `${stream}.${type}` });
  await nc.close();
  return info.state.subjects?.[`${stream}.${type}`] ?? info.state.messages;
}
