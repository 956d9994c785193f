// An accelerated long run over NATS with a subscriber that stalls: three rounds in which its
// callback blocks the event loop for 3 s while 10,000 events of 1 KiB arrive. The server (own,
// max_pending 4 MB, write_deadline 1 s) drops it as a slow consumer; the subscriber's memory stays
// bounded, the transport names the stall in its log and in the disconnected status, it reconnects,
// and events sent after it recovered arrive.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/index.js";
import { natsTransport } from "../../src/transports/nats.js";
import { waitFor } from "../conformance/helpers.js";
import { onPath, portOpen } from "../transports/_broker.js";
import { freePort } from "../transports/_processes.js";
import { record } from "./_record.js";

const fixture = fileURLToPath(new URL("./fixtures/slow-subscriber.ts", import.meta.url));
const ROUNDS = 3;
const PER_ROUND = 10_000;
/** Largest resident memory the stalling subscriber may reach. */
const RSS_BOUND = 200 * 1024 * 1024;

const hasServer = onPath("nats-server", "the NATS slow-consumer test");

describe.skipIf(!hasServer)("a slow consumer on NATS", () => {
  let dir: string;
  let server: ChildProcess;
  let port: number;
  let monitor: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-bus-slow-"));
    [port, monitor] = [await freePort(), await freePort()];
    const config = `listen: "127.0.0.1:${port}"\nhttp: "127.0.0.1:${monitor}"\nmax_pending: 4MB\nwrite_deadline: "1s"\n`;
    writeFileSync(join(dir, "nats.conf"), config);
    server = spawn("nats-server", ["-c", join(dir, "nats.conf")], { stdio: "ignore" });
    while (!(await portOpen(port, "127.0.0.1", 200))) await new Promise((resolve) => setTimeout(resolve, 50));
  });
  afterAll(() => {
    server?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("is dropped by the server, reported as a stall, stays bounded in memory and recovers", async (context) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fixture, `nats://127.0.0.1:${port}`, "slow", "3000"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const lines: Record<string, unknown>[] = [];
    let rest = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as Record<string, unknown>);
    });
    const publisher = new EventBus({
      transport: natsTransport({ servers: `nats://127.0.0.1:${port}`, namespace: "slow" }),
    });
    try {
      await waitFor(() => lines.some((line) => "ready" in line), "the subscriber", 20_000);
      await publisher.ready();
      const payload = "x".repeat(1024);
      const received = () => Number(lines.filter((line) => "received" in line).at(-1)?.received ?? 0);
      const reconnects = () => lines.filter((line) => line.status === "connected").length;
      let recovered = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const connectedBefore = reconnects();
        publisher.publish("slow.stall", { stall: true });
        for (let i = 0; i < PER_ROUND; i++) {
          publisher.publish("slow.tick", { round, i, payload });
          if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await waitFor(() => reconnects() > connectedBefore, `reconnect after stall ${round + 1}`, 20_000);
        // Once it is back, what is sent arrives.
        const before = received();
        for (let i = 0; i < 100; i++) publisher.publish("slow.after", { round, i });
        await waitFor(() => received() >= before + 100, `the events after stall ${round + 1}`, 10_000);
        recovered += 100;
      }
      const varz = (await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json()) as {
        slow_consumers: number;
      };
      const samples = lines.filter((line) => "rss" in line);
      const maxRss = Math.max(...samples.map((line) => line.rss as number));
      const maxHeap = Math.max(...samples.map((line) => line.heapUsed as number));
      const logs = lines.filter((line) => "log" in line).map((line) => line.log as string);
      const stalledStatus = lines.filter(
        (line) => line.status === "disconnected" && /slow consumer/u.test(String(line.error)),
      );
      const sent = ROUNDS * (PER_ROUND + 1) + recovered;
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
      record(context, {
        injected: `${ROUNDS} stalls of 3 s, ${PER_ROUND} × 1 KiB each (server max_pending 4 MB, write_deadline 1 s)`,
        sent,
        lost: sent - received(),
        duplicated: 0,
        reordered: 0,
        note: `server counted ${varz.slow_consumers} slow consumer(s); ${stalledStatus.length} disconnected statuses naming it; max RSS ${mib(maxRss)} MiB, heap ${mib(maxHeap)} MiB (bound ${mib(RSS_BOUND)}); all ${recovered} events after recovery arrived`,
      });
      expect(varz.slow_consumers).toBeGreaterThanOrEqual(1);
      expect(logs.some((line) => /blocked the event loop for \d+ ms/u.test(line))).toBe(true);
      expect(stalledStatus.length).toBeGreaterThanOrEqual(1);
      expect(maxRss).toBeLessThan(RSS_BOUND);
    } finally {
      child.kill("SIGKILL");
      await publisher.close();
    }
  }, 180_000);
});
