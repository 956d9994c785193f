/**
 * Faults against an own redis-server (appendonly, killed with SIGKILL and restarted on the same
 * dir). Skipped without redis-server on PATH unless AGENT_BUS_REQUIRE_BROKERS=1.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus, type TransportStatus } from "../../src/index.js";
import { redisTransport } from "../../src/transports/redis.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { freePort } from "./_processes.js";
import { hasRedisServer, OwnRedisServer } from "./_redis.js";

const fast = { retryStrategy: () => 50, ackWait: 1000 } as const;

describe.skipIf(!hasRedisServer())("redis faults with an own server", () => {
  let server: OwnRedisServer;
  const buses: EventBus[] = [];
  const busOn = async (namespace: string, options: Parameters<typeof redisTransport>[0] = {}) => {
    const bus = new EventBus({
      transport: redisTransport({ url: server.url, namespace, ...fast, ...options }),
    });
    buses.push(bus);
    await bus.ready();
    return bus;
  };
  const storedCount = async (namespace: string, type: string) => {
    const raw = new Redis(server.url);
    const entries = await raw.xrange(`${namespace}:stream`, "-", "+");
    await raw.quit();
    return entries.filter(([, fields]) => fields[1] === type).length;
  };

  beforeAll(async () => {
    server = new OwnRedisServer(await freePort());
    await server.start();
  });
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close().catch(() => undefined)));
    await server?.dispose();
  });

  it("restart while publishing: live loss is counted, durable loses and duplicates nothing", async () => {
    const namespace = uniqueNamespace("restart");
    const publisher = await busOn(namespace);
    const subscriber = await busOn(namespace);
    const live: number[] = [];
    const durable: number[] = [];
    subscriber.subscribe("live.tick", (n) => live.push(n as number));
    subscriber.subscribe("durable.tick", (n) => durable.push(n as number), { durable: "ticks" });
    await linked(publisher, subscriber);
    await linked(subscriber, publisher);
    const total = 400;
    for (let i = 0; i < total; i++) {
      publisher.publish("durable.tick", i, { id: `tick-${i}` });
      publisher.publish("live.tick", i);
      if (i === 150) await server.kill();
      if (i === 200) await server.start();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor(() => new Set(durable).size === total, `${total} durable events`, 20_000);
    await linked(subscriber, publisher);
    const duplicates = durable.length - new Set(durable).size;
    const stored = await storedCount(namespace, "durable.tick");
    console.log(
      `[redis restart] live: ${live.length}/${total} delivered, ${total - live.length} lost; durable: ${new Set(durable).size}/${total} delivered, ${duplicates} redelivered, ${stored} stored`,
    );
    expect(stored).toBe(total);
    expect([...new Set(durable)].sort((a, b) => a - b)).toEqual([...Array(total).keys()]);
    expect(live.length).toBeLessThanOrEqual(total);
    expect(new Set(live).size).toBe(live.length);
  }, 30_000);

  it("while disconnected: buffers in the offline queue and sends on reconnect, or rejects", async () => {
    const namespace = uniqueNamespace("offline");
    const states: string[] = [];
    const make = (disconnected: "buffer" | "reject") => {
      const bus = new EventBus({
        transport: redisTransport({ url: server.url, namespace, ...fast, disconnected }),
        onStatus: (status: TransportStatus) => states.push(`${disconnected}:${status.state}`),
      });
      buses.push(bus);
      return bus;
    };
    const buffering = make("buffer");
    const rejecting = make("reject");
    const durable = await busOn(namespace);
    durable.subscribe("offline.>", () => undefined, { durable: "offline" });
    await Promise.all([buffering.ready(), rejecting.ready(), durable.ready()]);
    await linked(buffering, durable);
    await server.kill();
    await waitFor(
      () => states.includes("buffer:disconnected") && states.includes("reject:disconnected"),
      "disconnects",
    );
    expect(() => rejecting.publish("offline.rejected", 1)).toThrow(/disconnected: "reject"/u);
    for (let i = 0; i < 10; i++) buffering.publish("offline.held", i);
    await server.start();
    await waitFor(
      () => states.filter((state) => state === "buffer:connected").length === 2,
      "reconnect",
      10_000,
    );
    let stored = 0;
    const deadline = Date.now() + 5000;
    while (stored < 10 && Date.now() < deadline) stored = await storedCount(namespace, "offline.held");
    expect(stored).toBe(10);
    expect(await storedCount(namespace, "offline.rejected")).toBe(0);
  }, 20_000);
});
