#!/usr/bin/env node

/**
 * One side of a transport case, run by bench/transports/run.mjs as a child process with an IPC
 * channel: `node peer.mjs <json options>` where options = { role: "pub" | "sub", broker, client,
 * url, namespace }. The runner drives it with messages:
 *
 *   pub  { burst: { sample, n, size } }         publish n events flat out (yielding every CHUNK)
 *        { paced: { sample, n, size, rate } }   publish n events at `rate` per second
 *   sub  { expect: { sample, n, latency } }     count (and time) the sample's events
 *        { sent: { sample } }                   the publisher is done: stop after IDLE_MS of silence
 *   both { close: true }
 *
 * Each event's data is { s: sample, i: index, t: send time (ms, shared clock), pad }, padded so
 * that its JSON is `size` bytes.
 */

import { open } from "./_clients.mjs";
import { anchor, now } from "./_clock.mjs";

const CHUNK = 500;
const IDLE_MS = 1500;
const options = JSON.parse(process.argv[2]);
const client = await open(options);
const send = (message) => process.send(message);

/** Data of `size` JSON bytes (± 1 for the width of the numbers). */
function payload(sample, size) {
  const probe = JSON.stringify({ s: sample, i: 0, t: now(), pad: "" }).length;
  const pad = "x".repeat(Math.max(0, size - probe - 3));
  return (i) => ({ s: sample, i, t: now(), pad });
}

const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system) of this process in µs. */
function cpu() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function burst({ sample, n, size }) {
  const make = payload(sample, size);
  const cpuStart = cpu();
  const start = now();
  for (let i = 0; i < n; i++) {
    client.publish(make(i));
    if (i % CHUNK === CHUNK - 1) await yieldToIo();
  }
  // What is still in the client's buffer is written on the next turns: count them too.
  await yieldToIo();
  send({ sent: { sample, start, end: now(), cpu: cpu() - cpuStart } });
}

async function paced({ sample, n, size, rate }) {
  const make = payload(sample, size);
  const interval = 1000 / rate;
  const start = now();
  let i = 0;
  while (i < n) {
    while (i < n && now() >= start + i * interval) client.publish(make(i++));
    if (i < n) await sleep(Math.max(0, start + i * interval - now()));
  }
  send({ sent: { sample, start, end: now() } });
}

// Subscriber state of the sample being counted.
let current;

function arrive(data) {
  const at = now();
  const sample = current;
  if (sample === undefined || data.s !== sample.sample) return;
  sample.received++;
  if (sample.received === 1) sample.first = at;
  sample.last = at;
  if (sample.latencies !== undefined) sample.latencies.push((at - data.t) * 1000);
  if (sample.received === sample.n) finish();
}

function finish() {
  const sample = current;
  if (sample === undefined) return;
  current = undefined;
  clearTimeout(sample.idle);
  const { latencies, cpuStart, idle: _, ...rest } = sample;
  send({ done: { ...rest, cpu: cpu() - cpuStart, latencies } });
}

/** After the publisher is done, stop waiting once no event arrived for IDLE_MS. */
function watchIdle() {
  const sample = current;
  if (sample === undefined) return;
  const seen = sample.received;
  sample.idle = setTimeout(() => (sample.received === seen ? finish() : watchIdle()), IDLE_MS);
}

process.on("message", async (message) => {
  if (message.burst) await burst(message.burst);
  else if (message.paced) await paced(message.paced);
  else if (message.expect) {
    const { sample, n, latency } = message.expect;
    current = { sample, n, received: 0, first: undefined, last: undefined, cpuStart: cpu() };
    if (latency) current.latencies = [];
    send({ expecting: sample });
  } else if (message.sent) {
    if (current?.sample === message.sent.sample) watchIdle();
  } else if (message.close) {
    await client.close();
    process.disconnect();
  }
});

if (options.role === "sub") await client.subscribe(arrive);
send({ ready: { anchor: anchor() } });
