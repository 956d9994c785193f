import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/bus.js";
import { natsTransport } from "../../src/transports/nats.js";
import { skipWithout } from "../transports/_broker.js";
import { ensureBuilt, MAIN, runCli, spawnCli } from "./helpers.js";

const NATS = "nats://127.0.0.1:4222";
const REDIS = "redis://127.0.0.1:6379";
const skipNats = await skipWithout("nats-server", 4222);
const skipRedis = await skipWithout("redis-server", 6379);

beforeAll(ensureBuilt, 60_000);

const children: ReturnType<typeof spawnCli>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.child.kill("SIGKILL");
});

/** A `tail` child that has announced its subscription is in place. */
async function startTail(args: string[]) {
  const tail = spawnCli(["tail", ...args]);
  children.push(tail);
  await expect.poll(tail.output, { timeout: 10_000 }).toContain("Ctrl+C to stop");
  return tail;
}

describe.skipIf(skipNats)("agent-bus tail and publish over NATS", () => {
  it("prints, one line each, the events another process published, and exits 0 on SIGINT", async () => {
    const namespace = `cli-tail-${randomUUID().slice(0, 8)}`;
    const tail = await startTail(["task.*", "--nats", NATS, "--namespace", namespace]);
    expect(tail.output()).toContain(`"task.*" on NATS ${NATS}, namespace ${namespace}`);
    const sent = await runCli([
      "publish",
      "task.done",
      '{"id":7,"ok":true}',
      "--nats",
      NATS,
      "--namespace",
      namespace,
    ]);
    expect(sent.code).toBe(0);
    // Not matched by the pattern: must not appear.
    await runCli(["publish", "other.done", '{"id":8}', "--nats", NATS, "--namespace", namespace]);
    await runCli(["publish", "task.none", "--nats", NATS, "--namespace", namespace]);
    await expect.poll(tail.stdout, { timeout: 5000 }).toMatch(/task\.none/u);
    tail.child.kill("SIGINT");
    const { code, stdout } = await tail.finished;
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} task\.done agent-bus\/\S+ \{"id":7,"ok":true\}$/u);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} task\.none agent-bus\/\S+$/u);
  });

  it("cuts long data to a sensible width", async () => {
    const namespace = `cli-tail-${randomUUID().slice(0, 8)}`;
    const tail = await startTail([">", "--nats", NATS, "--namespace", namespace]);
    const long = JSON.stringify({ text: "x".repeat(1000) });
    expect((await runCli(["publish", "big", long, "--nats", NATS, "--namespace", namespace])).code).toBe(0);
    await expect.poll(tail.stdout, { timeout: 5000 }).toMatch(/big/u);
    const line = tail.stdout().trim();
    expect(line.length).toBeLessThan(300);
    expect(line).toMatch(/\{"text":"x+…$/u);
  });

  it("prints each event's CloudEvents JSON with --json, one per line", async () => {
    const namespace = `cli-tail-${randomUUID().slice(0, 8)}`;
    const tail = await startTail([">", "--json", "--nats", NATS, "--namespace", namespace]);
    const data = { task_id: 3, success: true, note: "über" };
    const sent = await runCli([
      "publish",
      "task_completed",
      JSON.stringify(data),
      "--nats",
      NATS,
      "--namespace",
      namespace,
    ]);
    expect(sent.code).toBe(0);
    const id = /"task_completed" (\S+) on/u.exec(sent.stderr)?.[1];
    await expect.poll(tail.stdout, { timeout: 5000 }).toContain("\n");
    const events = tail
      .stdout()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events).toEqual([
      expect.objectContaining({
        specversion: "1.0",
        id,
        type: "task_completed",
        data,
        source: expect.any(String),
      }),
    ]);
    expect(Date.parse(events[0].time)).not.toBeNaN();
  });

  it("gets a reply with --request from a responder on a bus in another process", async () => {
    const namespace = `cli-req-${randomUUID().slice(0, 8)}`;
    const bus = new EventBus({ transport: natsTransport({ servers: NATS, namespace }) });
    try {
      bus.respond("math.sum", (numbers) => (numbers as number[]).reduce((a, b) => a + b, 0));
      await bus.ready();
      const result = await runCli([
        "publish",
        "math.sum",
        "[1,2,39]",
        "--request",
        "--nats",
        NATS,
        "--namespace",
        namespace,
      ]);
      expect([result.code, result.stdout]).toEqual([0, "42\n"]);
      const failing = await runCli([
        "publish",
        "math.none",
        "--request",
        "--nats",
        NATS,
        "--namespace",
        namespace,
      ]);
      expect(failing.code).toBe(1);
      expect(failing.stderr).toContain('NoResponderError: No responder for "math.none"');
    } finally {
      await bus.close();
    }
  });

  it("ends --request with exit 1 and the TimeoutError when the responder is too slow", async () => {
    const namespace = `cli-req-${randomUUID().slice(0, 8)}`;
    const bus = new EventBus({ transport: natsTransport({ servers: NATS, namespace }) });
    try {
      bus.respond("slow", () => new Promise((resolve) => setTimeout(resolve, 2000)));
      await bus.ready();
      const args = [
        "publish",
        "slow",
        "--request",
        "--timeout",
        "300",
        "--nats",
        NATS,
        "--namespace",
        namespace,
      ];
      const result = await runCli(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/TimeoutError: Timed out after 300 ms waiting for "slow"/u);
    } finally {
      await bus.close();
    }
  });

  it("meets by default: tail and publish without --namespace use agent-bus", async () => {
    const type = `cli_default_${randomUUID().slice(0, 8)}`;
    const tail = await startTail([type, "--nats", NATS]);
    expect(tail.output()).toContain("namespace agent-bus");
    const listener = new EventBus({ transport: natsTransport({ servers: NATS, namespace: "agent-bus" }) });
    try {
      const received = listener.once(type, { timeout: 5000 });
      await listener.ready();
      expect((await runCli(["publish", type, '"hi"', "--nats", NATS])).code).toBe(0);
      expect(await received).toBe("hi");
      await expect.poll(tail.stdout, { timeout: 5000 }).toContain(`${type} `);
    } finally {
      await listener.close();
    }
  });
});

describe.skipIf(skipRedis)("agent-bus tail and publish over Redis", () => {
  it("prints the event that publish sent, and --request reaches no responder", async () => {
    const namespace = `cli-redis-${randomUUID().slice(0, 8)}`;
    const tail = await startTail([">", "--json", "--redis", REDIS, "--namespace", namespace]);
    expect(tail.output()).toContain(`on Redis ${REDIS}, namespace ${namespace}`);
    const sent = await runCli([
      "publish",
      "note.added",
      '{"n":1}',
      "--redis",
      REDIS,
      "--namespace",
      namespace,
    ]);
    expect(sent.code).toBe(0);
    await expect.poll(tail.stdout, { timeout: 5000 }).toContain("\n");
    expect(JSON.parse(tail.stdout())).toMatchObject({ type: "note.added", data: { n: 1 } });
    const request = await runCli([
      "publish",
      "nobody",
      "--request",
      "--redis",
      REDIS,
      "--namespace",
      namespace,
    ]);
    expect(request.code).toBe(1);
    expect(request.stderr).toContain('No responder for "nobody"');
  });
});

describe("agent-bus with a broker client not installed", () => {
  it("says which package to install, not that the server cannot be reached", async () => {
    const hide = new URL("../transports/fixtures/no-ioredis.mjs", import.meta.url);
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", fileURLToPath(hide), MAIN, "publish", "x.y", "{}", "--redis", "redis://127.0.0.1:1"],
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number), stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("agent-bus: redisTransport needs the Redis client: npm install ioredis\n");
  });
});
