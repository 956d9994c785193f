// A browser that stops reading must not slow the bus nor grow memory: its live feed is a bounded
// queue that drops the oldest events and says how many. The slow client here is a real TCP
// connection that never reads.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHost, type Host } from "../../src/host/index.js";
import { EventBus } from "../../src/index.js";

const quiet = () => undefined;

describe("the live feed with a client that stops reading", () => {
  let host: Host;
  let stalled: Socket;

  beforeAll(async () => {
    host = await createHost({
      port: 0,
      bus: new EventBus(),
      console: { log: quiet, warn: quiet, error: quiet },
    });
    const { port } = new URL(host.url as string);
    stalled = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => stalled.once("connect", resolve));
    stalled.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    // Read the response head, then never read again.
    await new Promise((resolve) => stalled.once("data", resolve));
    stalled.pause();
  });

  afterAll(async () => {
    stalled?.destroy();
    await host?.close();
  });

  it("drops the oldest events for that client, counts them, and keeps the bus fast", async () => {
    const payload = "x".repeat(16 * 1024);
    // Batches below the feed's buffer, with a turn of the event loop between them, so that what
    // fills up is the stalled client's own queue.
    let publishing = 0;
    for (let batch = 0; batch < 6; batch++) {
      const started = performance.now();
      for (let i = 0; i < 500; i++) host.bus.publish("flood.event", { i, payload });
      publishing += performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Let the feed's batches run against the full socket.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stats = await (await fetch(`${host.url}/api/stats`)).json();
    expect(stats.feed.clients).toBe(1);
    // 3000 events of 16 KiB cannot sit in socket buffers; the queue (1000) bounds the rest.
    expect(stats.feed.dropped).toBeGreaterThan(1000);
    expect(stats.totals.published).toBeGreaterThanOrEqual(3000);
    const metrics = await (await fetch(`${host.url}/metrics`)).text();
    expect(metrics).toMatch(/agent_bus_inspector_dropped_total [1-9]\d{3}/);
    // Publishing never waited for the socket: 3000 publishes took far less than a stalled write would.
    expect(publishing).toBeLessThan(5000);
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 3000; i++) host.bus.publish("flood.event", { i, payload });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Another 3000 × 16 KiB (48 MiB of frames) did not stay in memory.
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(40 * 1024 * 1024);
  }, 30_000);
});
