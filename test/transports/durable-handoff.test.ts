// A durable subscriber shut down cleanly (a rolling restart) finishes the event it is delivering
// and hands the ones it had fetched but not started to the next consumer at once, instead of
// holding them until ackWait, on each broker that keeps durable subscriptions.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type Transport } from "../../src/index.js";
import { natsTransport } from "../../src/transports/nats.js";
import { redisTransport } from "../../src/transports/redis.js";
import { uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { skipWithout } from "./_broker.js";
import { deleteNamespaces } from "./_redis.js";

/** Far beyond the test's own timeout: an event that waits for it fails the test. */
const ACK_WAIT = 120_000;

const brokers: {
  name: string;
  skip: boolean;
  transport: (namespace: string) => Transport;
  cleanUp: (namespaces: string[]) => Promise<void>;
}[] = [
  {
    name: "nats",
    skip: await skipWithout("nats-server", 4222),
    transport: (namespace) => natsTransport({ servers: "127.0.0.1:4222", namespace, ackWait: ACK_WAIT }),
    cleanUp: async (namespaces) => {
      const nc = await connect({ servers: "127.0.0.1:4222" });
      const jsm = await jetstreamManager(nc);
      for (const namespace of namespaces) await jsm.streams.delete(namespace).catch(() => undefined);
      await nc.close();
    },
  },
  {
    name: "redis",
    skip: await skipWithout("redis-server", 6379),
    transport: (namespace) => redisTransport({ url: "redis://127.0.0.1:6379", namespace, ackWait: ACK_WAIT }),
    cleanUp: async (namespaces) => {
      const raw = new Redis("redis://127.0.0.1:6379");
      await deleteNamespaces(raw, namespaces);
      await raw.quit();
    },
  },
];

for (const broker of brokers) {
  describe.skipIf(broker.skip)(`durable hand-off on close: ${broker.name}`, () => {
    const namespaces: string[] = [];
    const buses: EventBus[] = [];
    const busOn = async (namespace: string) => {
      const bus = new EventBus({ transport: broker.transport(namespace) });
      buses.push(bus);
      await bus.ready();
      return bus;
    };
    afterAll(async () => {
      await Promise.all(buses.map((bus) => bus.close()));
      await broker.cleanUp(namespaces);
    });

    it("finishes the delivery in progress, and the next consumer gets the rest at once", async () => {
      const namespace = uniqueNamespace("handoff");
      namespaces.push(namespace);
      // The durable consumer exists before the events, so that they wait for it, all five.
      const setup = await busOn(namespace);
      setup.subscribe("work.item", () => undefined, { durable: "workers" });
      await setup.ready();
      await setup.close();
      const publisher = await busOn(namespace);
      for (let i = 0; i < 5; i++) publisher.publish("work.item", i);
      await publisher.close();

      // Fetches all five at once, and is closed while the first one is being delivered.
      const first = await busOn(namespace);
      const started: number[] = [];
      const finished: number[] = [];
      first.subscribe(
        "work.item",
        async (n) => {
          started.push(n as number);
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished.push(n as number);
        },
        { durable: "workers" },
      );
      await waitFor(() => started.length === 1, "the first delivery to start", 10_000);
      await first.close();
      expect(finished).toEqual([0]);
      expect(started).toEqual([0]);

      const next = await busOn(namespace);
      const got: number[] = [];
      next.subscribe("work.item", (n) => got.push(n as number), { durable: "workers" });
      await waitFor(() => got.length === 4, "the four events the first consumer never started", 15_000);
      expect(got.sort()).toEqual([1, 2, 3, 4]);
    }, 40_000);
  });
}
