/**
 * Faults against an own redis-server (appendonly, killed with SIGKILL and restarted on the same
 * dir). Skipped without redis-server on PATH unless AGENT_BUS_REQUIRE_BROKERS=1.
 */
import { readFileSync, rmSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EventBus, TransportError, type TransportStatus } from "../../src/index.js";
import { type RedisTransportOptions, redisTransport } from "../../src/transports/redis.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { durablePeer, expectDurableCatchUp, expectPeersExchange } from "./_peer-scenarios.js";
import { freePort, type Peer } from "./_processes.js";
import { hasRedisServer, OwnRedisServer, selfSignedCertificate } from "./_redis.js";

const fast = { retryStrategy: () => 50, ackWait: 1000 } as const;

// These tests kill and restart a broker and wait for clients to notice, on a 2-core machine that
// runs the rest of the suite beside them: a run that loses the race against the clock is tried
// again, up to twice. A broken recovery fails all three attempts.
const FAULT_TIMING = { retry: 2 } as const;

describe.skipIf(!hasRedisServer())("redis faults with an own server", FAULT_TIMING, () => {
  let server: OwnRedisServer;
  /** Servers a test starts for itself, also disposed after all (see afterAll). */
  const extraServers: OwnRedisServer[] = [];
  const ownServer = async () => {
    const extra = new OwnRedisServer(await freePort());
    extraServers.push(extra);
    return extra;
  };
  const buses: EventBus[] = [];
  const peers: Peer[] = [];
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
    await Promise.all(peers.map((peer) => peer.stop("SIGKILL")));
    await Promise.all(buses.map((bus) => bus.close().catch(() => undefined)));
    await server?.dispose();
    // A test that timed out did not reach its own dispose.
    await Promise.all(extraServers.map((extra) => extra.dispose()));
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

  it("while disconnected: buffers in the offline queue up to bufferBytes and sends on reconnect, or rejects", async () => {
    const namespace = uniqueNamespace("offline");
    const states: string[] = [];
    const make = (name: string, options: Partial<RedisTransportOptions>) => {
      const bus = new EventBus({
        transport: redisTransport({ url: server.url, namespace, ...fast, ...options }),
        onStatus: (status: TransportStatus) => states.push(`${name}:${status.state}`),
      });
      buses.push(bus);
      return bus;
    };
    const buffering = make("buffer", { disconnected: "buffer" });
    const rejecting = make("reject", { disconnected: "reject" });
    // Room for a few events of ~300 bytes of CloudEvents JSON each, not for ten.
    const capped = make("capped", { bufferBytes: 1000 });
    const durable = await busOn(namespace);
    durable.subscribe("offline.>", () => undefined, { durable: "offline" });
    await Promise.all([buffering.ready(), rejecting.ready(), capped.ready(), durable.ready()]);
    await linked(buffering, durable);
    await server.kill();
    await waitFor(
      () => ["buffer", "reject", "capped"].every((name) => states.includes(`${name}:disconnected`)),
      "disconnects",
      // Generous: the full suite runs beside this one on two cores.
      15_000,
    );
    expect(() => rejecting.publish("offline.rejected", 1)).toThrow(/disconnected: "reject"/u);
    for (let i = 0; i < 10; i++) buffering.publish("offline.held", i);
    const capError = (() => {
      for (let i = 0; i < 10; i++) {
        try {
          capped.publish("offline.capped", i);
        } catch (error) {
          return { error, accepted: i };
        }
      }
      return undefined;
    })();
    expect(capError?.error).toBeInstanceOf(TransportError);
    expect(String(capError?.error)).toMatch(
      /offline\.capped" refused: .*holds \d+ of 1000 bytes \(bufferBytes\)/u,
    );
    const accepted = capError?.accepted ?? 0;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(10);
    await server.start();
    await waitFor(
      () =>
        ["buffer", "capped"].every((name) => states.filter((s) => s === `${name}:connected`).length === 2),
      "reconnect",
      10_000,
    );
    let stored = 0;
    let storedCapped = 0;
    const deadline = Date.now() + 5000;
    while ((stored < 10 || storedCapped < accepted) && Date.now() < deadline) {
      stored = await storedCount(namespace, "offline.held");
      storedCapped = await storedCount(namespace, "offline.capped");
    }
    expect(stored).toBe(10);
    // What the cap accepted arrived; what it refused was never queued.
    expect(storedCapped).toBe(accepted);
    expect(await storedCount(namespace, "offline.rejected")).toBe(0);
    // Connected again, the cap is free: a publish goes through at once.
    capped.publish("offline.capped", 99);
    const after = Date.now() + 5000;
    while (storedCapped < accepted + 1 && Date.now() < after)
      storedCapped = await storedCount(namespace, "offline.capped");
    expect(storedCapped).toBe(accepted + 1);
  }, 45_000);

  it("closes without waiting for a server that is down, durable subscriptions included", async () => {
    const states: string[] = [];
    const bus = new EventBus({
      // ackWait long: a consumer waits up to min(ackWait, 5 s) for a delivery in progress.
      transport: redisTransport({
        url: server.url,
        namespace: uniqueNamespace("down"),
        ...fast,
        ackWait: 30_000,
      }),
      onStatus: (status: TransportStatus) => states.push(status.state),
    });
    buses.push(bus);
    bus.subscribe("down.>", () => undefined, { durable: "down" });
    await bus.ready();
    await server.kill();
    try {
      await waitFor(() => states.includes("disconnected"), "the disconnect", 15_000);
      // Nothing is being delivered: close has nothing to wait for (it took the full 5 s).
      const outcome = await Promise.race([
        bus.close().then(() => "closed"),
        new Promise((resolve) => setTimeout(resolve, 3000, "still closing after 3 s")),
      ]);
      expect(outcome).toBe("closed");
    } finally {
      await server.start();
    }
  }, 30_000);

  it("waits for a server not up yet with waitOnFirstConnect; without it, or once retries give up, ready() fails", async () => {
    const late = await ownServer();
    const namespace = uniqueNamespace("late");
    const make = (options: Partial<RedisTransportOptions>) => {
      const bus = new EventBus({ transport: redisTransport({ url: late.url, namespace, ...options }) });
      buses.push(bus);
      return bus;
    };
    try {
      const eager = make({ retryStrategy: () => 50 });
      await expect(eager.ready()).rejects.toThrow(/cannot connect to redis:.*ECONNREFUSED/u);
      const giving = make({
        retryStrategy: (times: number) => (times > 3 ? null : 20),
        waitOnFirstConnect: true,
      });
      await expect(giving.ready()).rejects.toThrow(/cannot connect to redis:.*ECONNREFUSED/u);
      // Closed while it waits: close() returns at once, ready() rejects.
      const abandoned = make({ retryStrategy: () => 50, waitOnFirstConnect: true });
      const abandonedReady = abandoned.ready().catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const closedFirst = await Promise.race([
        abandoned.close().then(() => "closed"),
        new Promise((resolve) => setTimeout(resolve, 3000, "close still waiting after 3 s")),
      ]);
      expect(closedFirst).toBe("closed");
      expect(await abandonedReady).toBeInstanceOf(TransportError);
      const waiting = make({ retryStrategy: () => 50, waitOnFirstConnect: true });
      const got: unknown[] = [];
      waiting.subscribe("late.x", (data) => got.push(data));
      let ready = false;
      const readied = waiting.ready().then(() => {
        ready = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ready).toBe(false);
      await late.start();
      await readied;
      const other = make({});
      await other.ready();
      await linked(waiting, other);
      other.publish("late.x", 1);
      await waitFor(() => got.length >= 1, "the event, once the server came", 10_000);
      expect(got.at(-1)).toBe(1);
    } finally {
      await late.dispose();
    }
  }, 30_000);

  it("when the client gives up reconnecting: status closed with why, ready() rejects, publishes refused", async () => {
    const lone = await ownServer();
    await lone.start();
    const states: TransportStatus[] = [];
    const bus = new EventBus({
      transport: redisTransport({
        url: lone.url,
        namespace: uniqueNamespace("giveup"),
        retryStrategy: (times: number) => (times > 2 ? null : 50),
      }),
      onStatus: (status) => states.push(status),
    });
    buses.push(bus);
    try {
      await bus.ready();
      await lone.kill();
      await waitFor(() => states.some((s) => s.state === "closed"), "the client to give up", 10_000);
      expect(String(states.find((s) => s.state === "closed")?.error)).toMatch(/stopped reconnecting/u);
      await expect(bus.ready()).rejects.toThrow(/the connection closed for good: stopped reconnecting/u);
      expect(() => bus.publish("giveup.after", 1)).toThrow(/refused: the connection is closed/u);
    } finally {
      await lone.dispose();
    }
  }, 20_000);

  it("a durable subscriber killed and restarted catches up in order", async () => {
    const namespace = uniqueNamespace("catchup");
    const first = await durablePeer(server.url, namespace, "audit-1", peers);
    // Created after the durable subscription exists, the publisher loads its route on connect.
    const publisher = await busOn(namespace);
    await expectDurableCatchUp(first, publisher, server.url, namespace, peers);
  }, 30_000);

  it("two Node processes exchange events, share group deliveries and answer each other's requests", async () => {
    await expectPeersExchange(server.url, uniqueNamespace("peers"), peers, busOn);
  }, 30_000);

  it("after a restart without persistence, durable subscriptions recreate their group and route", async () => {
    const bare = new OwnRedisServer(await freePort(), ["--appendonly", "no"]);
    await bare.start();
    try {
      const namespace = uniqueNamespace("bare");
      const options = { url: bare.url, namespace, ...fast };
      const subscriber = new EventBus({ transport: redisTransport(options) });
      buses.push(subscriber);
      const got: string[] = [];
      subscriber.subscribe("kept.event", (data) => got.push(data as string), { durable: "kept" });
      await subscriber.ready();
      // Created after the durable subscription exists, the publisher loads its route on connect.
      const publisher = new EventBus({ transport: redisTransport(options) });
      buses.push(publisher);
      await publisher.ready();
      publisher.publish("kept.event", "before");
      await waitFor(() => got.length === 1, "the event before the restart");
      const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
      try {
        await bare.kill();
        await bare.start();
        // Retried: what is published before the group and route are back is not stored.
        for (let i = 0; !got.includes("after"); i++) {
          if (i > 100) throw new Error("the durable subscription did not come back within 10 s");
          publisher.publish("kept.event", "after", { id: `after-${i}` });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(warn.mock.calls.map((call) => String(call[0])).join("\n")).toMatch(/NOGROUP/u);
      } finally {
        warn.mockRestore();
      }
      expect(got[0]).toBe("before");
      await bare.kill();
      await new Promise((resolve) => setTimeout(resolve, 200));
      publisher.publish("kept.event", "queued while the server is gone");
      // close() does not wait for a server that is gone, even with publishes queued for it.
      const started = Date.now();
      const closing = vi.spyOn(console, "warn").mockImplementation(() => undefined);
      try {
        await Promise.all([subscriber.close(), publisher.close()]);
        expect(closing.mock.calls.map((call) => String(call[0]))).toEqual([
          "[EventBus:redis] closed while disconnected: 1 publishes made since the connection was lost were dropped",
        ]);
      } finally {
        closing.mockRestore();
      }
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await bare.dispose();
    }
  }, 20_000);
});

describe.skipIf(!hasRedisServer())("redis with ACL users and TLS", () => {
  let server: OwnRedisServer;
  let tls: ReturnType<typeof selfSignedCertificate>;
  const buses: EventBus[] = [];
  const credentials = { username: "agent", password: "s3cret" };

  beforeAll(async () => {
    tls = selfSignedCertificate();
    const acl = ["--user", "default", "off", "--user", "agent", "on", ">s3cret", "~*", "&*", "+@all"];
    const files = ["--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.cert];
    server = new OwnRedisServer(await freePort(), [...acl, ...files, "--tls-auth-clients", "no"], "rediss");
    await server.start();
  });
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close().catch(() => undefined)));
    await server?.dispose();
    rmSync(tls.dir, { recursive: true, force: true });
  });

  it("passes the ACL user, password and TLS options to ioredis", async () => {
    const options = { url: server.url, namespace: uniqueNamespace("tls"), ...credentials };
    const [a, b] = [0, 1].map(
      () => new EventBus({ transport: redisTransport({ ...options, tls: { ca: readFileSync(tls.cert) } }) }),
    ) as [EventBus, EventBus];
    buses.push(a, b);
    const got: unknown[] = [];
    b.subscribe("secure.event", (data) => got.push(data));
    await Promise.all([a.ready(), b.ready()]);
    a.publish("secure.event", { ok: true });
    await waitFor(() => got.length === 1, "the event over TLS");
    expect(got).toEqual([{ ok: true }]);
  });

  it("fails ready() with the server's reason: wrong password, untrusted certificate", async () => {
    const wrong = new EventBus({
      transport: redisTransport({
        url: server.url,
        ...credentials,
        password: "wrong",
        tls: { ca: readFileSync(tls.cert) },
        retryStrategy: () => null,
      }),
    });
    const untrusted = new EventBus({
      transport: redisTransport({ url: server.url, ...credentials, retryStrategy: () => null }),
    });
    buses.push(wrong, untrusted);
    await expect(wrong.ready()).rejects.toThrow(/cannot connect to rediss:\/\/127\.0\.0\.1:\d+.*WRONGPASS/u);
    await expect(untrusted.ready()).rejects.toThrow(/cannot connect to rediss:.*self[- ]signed/iu);
  });
});
