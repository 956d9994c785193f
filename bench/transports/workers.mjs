#!/usr/bin/env node
/**
 * The worker-threads case, one process per (client, worker count): the main thread publishes,
 * every worker subscribes and counts (fan-out: each event reaches each worker).
 *
 *   node workers.mjs '{"client":"bus"|"raw","workers":4,"n":100000,"samples":3,"warm":10000,"size":128}'
 *
 * bus: agent-bus workerTransport (main thread = broker), bus.publish in main, bus.subscribe in
 * each worker. raw: worker.postMessage(data) to each worker in turn, parentPort.on("message").
 * Prints one JSON line: { samples: [{ eps, seconds }] }, eps = events published per second
 * until the last worker had them all.
 */

import { MessageChannel, Worker } from "node:worker_threads";
import { now } from "./_clock.mjs";

const CHUNK = 500;
const options = JSON.parse(process.argv[2]);
const { client, workers: count, n, samples, warm, size } = options;

const threads = [];
for (let w = 0; w < count; w++) {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL("./_worker-thread.mjs", import.meta.url), {
    workerData: { client, control: port2 },
    transferList: [port2],
  });
  // Messages that come before anyone waits for them (a worker is ready before the main bus) wait here.
  const inbox = [];
  const waiters = [];
  port1.on("message", (message) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  const next = () =>
    inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiters.push(resolve));
  threads.push({ worker, control: port1, next, exited });
}

let publish;
let bus;
if (client === "bus") {
  const { EventBus } = await import("agent-bus");
  const { workerTransport } = await import("agent-bus/worker");
  bus = new EventBus({
    transport: workerTransport({ ports: threads.map((t) => t.worker), namespace: "bench" }),
  });
  await bus.ready();
  publish = (data) => bus.publish("bench.event", data);
} else {
  publish = (data) => {
    for (const thread of threads) thread.worker.postMessage(data);
  };
}
await Promise.all(threads.map((t) => t.next()));

const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));
const probe = JSON.stringify({ s: 0, i: 0, t: now(), pad: "" }).length;
const pad = "x".repeat(Math.max(0, size - probe - 3));

async function sample(id, events) {
  await Promise.all(
    threads.map((t) => {
      const expecting = t.next();
      t.control.postMessage({ expect: { sample: id, n: events } });
      return expecting;
    }),
  );
  const done = Promise.all(threads.map((t) => t.next()));
  const start = now();
  for (let i = 0; i < events; i++) {
    publish({ s: id, i, t: now(), pad });
    if (i % CHUNK === CHUNK - 1) await yieldToIo();
  }
  const reports = await done;
  const seconds = (Math.max(...reports.map((r) => r.done.last)) - start) / 1000;
  return { eps: events / seconds, seconds };
}

if (warm > 0) await sample(-1, warm);
const results = [];
for (let s = 0; s < samples; s++) results.push(await sample(s, n));
process.stdout.write(`${JSON.stringify({ samples: results })}\n`);
for (const thread of threads) thread.control.postMessage({ close: true });
await bus?.close();
await Promise.all(threads.map((t) => t.exited));
