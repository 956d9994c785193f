import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/bus.js";
import { natsTransport } from "../../src/transports/nats.js";
import { redisTransport } from "../../src/transports/redis.js";
import { skipWithout } from "../transports/_broker.js";
import { ensureBuilt, spawnCli } from "./helpers.js";

const NATS = "nats://127.0.0.1:4222";
const REDIS = "redis://127.0.0.1:6379";
const skipNats = await skipWithout("nats-server", 4222);
const skipRedis = await skipWithout("redis-server", 6379);
const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-run-bus-"));

beforeAll(ensureBuilt, 60_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Progress {
  success_rate: number[];
  progress: number;
}

async function progressAt(url: string): Promise<Progress> {
  return (await (await fetch(`${url}/learning/progress`)).json()) as Progress;
}

/** Runs the host with agent_learning on a broker, publishes a task_completed there, checks it learned. */
async function learnsOver(flag: "nats" | "redis", url: string, label: string, bus: (ns: string) => EventBus) {
  const namespace = `cli-run-${randomUUID().slice(0, 8)}`;
  const run = spawnCli([
    "run",
    "--extensions",
    "agent_learning",
    `--${flag}`,
    url,
    "--namespace",
    namespace,
    "--port",
    "0",
    "--data-dir",
    join(dataDir, namespace),
  ]);
  try {
    await expect.poll(run.output, { timeout: 10_000 }).toMatch(/Ctrl\+C to stop/u);
    expect(run.stdout()).toContain(
      `1 extension(s) on ${label} ${url}, namespace ${namespace}: agent_learning`,
    );
    expect(run.stdout()).toMatch(/\[bus\] connected to /u);
    const host = /(http:\/\/127\.0\.0\.1:\d+)\/learning\/progress/u.exec(run.stdout())?.[1] as string;
    expect((await progressAt(host)).success_rate).toEqual([]);

    const publisher = bus(namespace);
    await publisher.ready();
    publisher.publish("task_completed", { task_id: 1, success: true, reaction_time: 1.5 });
    await publisher.close();

    await expect.poll(async () => (await progressAt(host)).success_rate, { timeout: 5000 }).toEqual([1]);
    run.child.kill("SIGINT");
    const { code, stdout } = await run.finished;
    expect(code).toBe(0);
    expect(stdout).toContain("connection to");
  } finally {
    run.child.kill("SIGKILL");
  }
}

describe("agent-bus run on a distributed bus", () => {
  it.skipIf(skipNats)("learns from a task_completed another process published over NATS", async () => {
    await learnsOver(
      "nats",
      NATS,
      "NATS",
      (namespace) => new EventBus({ transport: natsTransport({ servers: NATS, namespace }) }),
    );
  });

  it.skipIf(skipRedis)("learns from a task_completed another process published over Redis", async () => {
    await learnsOver(
      "redis",
      REDIS,
      "Redis",
      (namespace) => new EventBus({ transport: redisTransport({ url: REDIS, namespace }) }),
    );
  });

  it("says it runs on the in-memory bus without --nats or --redis", async () => {
    const run = spawnCli([
      "run",
      "--extensions",
      "agent_learning",
      "--port",
      "0",
      "--data-dir",
      join(dataDir, "memory"),
    ]);
    try {
      await expect.poll(run.output, { timeout: 10_000 }).toMatch(/Ctrl\+C to stop/u);
      expect(run.stdout()).toContain("1 extension(s) on the in-memory bus: agent_learning");
      expect(run.output()).not.toContain("[bus]");
      run.child.kill("SIGTERM");
      expect((await run.finished).code).toBe(0);
    } finally {
      run.child.kill("SIGKILL");
    }
  });
});
