import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EventBus } from "../../src/index.js";
import { workerTransport } from "../../src/transports/worker.js";
import { waitFor } from "../conformance/helpers.js";

const entry = new URL("./fixtures/ts-worker.mjs", import.meta.url);
const peer = new URL("./fixtures/worker-peer.ts", import.meta.url).href;

describe("worker transport with real worker threads", () => {
  let bus: EventBus;
  let workers: Worker[] = [];
  const ready: string[] = [];
  const exited: number[] = [];

  beforeAll(async () => {
    workers = [0, 1].map(() => new Worker(entry, { workerData: { module: peer } }));
    for (const worker of workers) worker.on("exit", (code) => exited.push(code));
    bus = new EventBus({ transport: workerTransport({ ports: workers }) });
    bus.subscribe("worker.ready", (name) => ready.push(name as string));
    bus.respond("main.echo", (name) => `hello ${name as string}`);
    await waitFor(() => ready.length === 2, "both workers to join", 15_000);
  }, 30_000);

  afterAll(async () => {
    await bus?.close();
    await Promise.all(workers.map((worker) => worker.terminate()));
  });

  it("delivers every event of a worker's burst, in order, to the main thread and the other worker", async () => {
    const [first, second] = workers as [Worker, Worker];
    const got: number[] = [];
    bus.subscribe(`burst.${first.threadId}`, (i) => got.push(i as number));
    bus.publish("cmd.burst", { to: `worker-${first.threadId}`, count: 5000 });
    await waitFor(() => got.length >= 5000, "5000 events from the worker", 15_000);
    expect(got).toEqual([...Array(5000).keys()]);
    expect(second.threadId).not.toBe(first.threadId);
  });

  it("gives each job to exactly one worker of the group", async () => {
    const done: { worker: string; job: number }[] = [];
    bus.subscribe("job.done", (data) => done.push(data as { worker: string; job: number }));
    for (let job = 0; job < 100; job++) bus.publish("job.run", job);
    await waitFor(() => done.length >= 100, "100 jobs done");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done.map((d) => d.job).sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    expect(new Set(done.map((d) => d.worker)).size).toBe(2);
  });

  it("answers requests both ways: main to a worker, a worker to main", async () => {
    const reply = (await bus.request("worker.echo", 7, { timeout: 5000 })) as { from: string; data: number };
    expect(reply.data).toBe(7);
    expect(ready).toContain(reply.from);
    const asked: unknown[] = [];
    bus.subscribe("worker.asked", (data) => asked.push(data));
    bus.publish("cmd.ask", { to: ready[0] });
    await waitFor(() => asked.length === 1, "the worker's request to come back");
    expect(asked[0]).toEqual({ worker: ready[0], reply: `hello ${ready[0]}` });
  });

  it("keeps the bus's traffic off the worker's own port, both ways", async () => {
    const [first] = workers as [Worker, Worker];
    const warn = vi.spyOn(console, "warn");
    const seen: unknown[] = [];
    const mine = (message: unknown) => seen.push(message);
    first.on("message", mine);
    try {
      const got: number[] = [];
      bus.subscribe(`burst.${first.threadId}`, (i) => got.push(i as number));
      bus.publish("cmd.burst", { to: `worker-${first.threadId}`, count: 1000 });
      first.postMessage({ mine: 1 });
      first.postMessage({ t: "status", mine: 2 });
      await waitFor(() => got.length === 1000 && seen.length >= 2, "the burst and both echoes");
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The program's listener gets its own messages only, and the bus did not take them for its own.
      expect(seen).toEqual([
        { t: "mine", echo: 1 },
        { t: "mine", echo: 2 },
      ]);
      const complaints = warn.mock.calls
        .map((call) => String(call[0]))
        .filter((line) => line.includes("port message"));
      expect(complaints).toEqual([]);
    } finally {
      first.off("message", mine);
      warn.mockRestore();
    }
  });

  it("fails a worker's pending request at once when the main thread's bus closes", async () => {
    const worker = new Worker(entry, { workerData: { module: peer } });
    const main = new EventBus({ transport: workerTransport({ ports: [worker] }) });
    try {
      const joined: string[] = [];
      const asked: unknown[] = [];
      main.subscribe("worker.ready", (name) => joined.push(name as string));
      main.respond("main.never", (name) => {
        asked.push(name);
        return new Promise(() => undefined);
      });
      await waitFor(() => joined.length === 1, "the worker to join", 15_000);
      const outcome = new Promise((resolve) =>
        worker.on("message", (message: { stuck?: unknown }) => {
          if (message?.stuck !== undefined) resolve(message.stuck);
        }),
      );
      main.publish("cmd.stuck", { to: joined[0] });
      await waitFor(() => asked.length === 1, "the worker's request to reach main");
      await main.close();
      // The request's own timeout is a minute: only the hub going away can end it within this test's.
      await expect(outcome).resolves.toEqual({
        settled: "rejected",
        name: "TransportError",
        message: "the hub closed this worker's channel (its bus closed)",
      });
    } finally {
      await main.close();
      await worker.terminate();
    }
  }, 20_000);

  it("lets a worker close its bus and exit on its own", async () => {
    bus.publish("cmd.exit", null);
    await waitFor(() => exited.length === 2, "both workers to exit", 10_000);
    expect(exited).toEqual([0, 0]);
  });
});
