#!/usr/bin/env node
/**
 * The transport benchmark: agent-bus over NATS, Redis and worker threads against the raw clients
 * doing the same job. Publisher and subscriber are separate processes (brokers) or threads
 * (workers); every case runs in fresh processes, round after round, so that noise on a shared
 * machine spreads over all clients. Writes bench/results/transports.{md,json}.
 *
 *   node bench/transports/run.mjs           full run (~6 minutes)
 *   node bench/transports/run.mjs --smoke   a few hundred events per case, results in a temp dir
 *   options: --out <dir>  --only <regexp on "broker client size">  --rounds <n>
 *            --nats <url> --redis <url>      use these servers instead of private ones
 */

import { execFileSync, fork, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "../_args.mjs";
import { renderMarkdown } from "./_report.mjs";
import { startServers } from "./_servers.mjs";
import { latencySummary, quantile, summarize } from "./_stats.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const STEP_TIMEOUT_MS = 60_000;

const MODES = {
  full: {
    rounds: 3,
    sizes: [128, 1024],
    burst: 50_000,
    bursts: 3,
    warmBurst: 10_000,
    latencyEvents: 3000,
    latencySamples: 2,
    warmLatency: 300,
    rate: 1000,
    workerCounts: [1, 2, 4],
    workerEvents: 100_000,
    workerSamples: 3,
    warmWorker: 10_000,
  },
  smoke: {
    rounds: 1,
    sizes: [128, 1024],
    burst: 300,
    bursts: 1,
    warmBurst: 0,
    latencyEvents: 200,
    latencySamples: 1,
    warmLatency: 0,
    rate: 2000,
    workerCounts: [1, 2, 4],
    workerEvents: 300,
    workerSamples: 1,
    warmWorker: 0,
  },
};

const CLIENTS = [
  ["nats", "bus"],
  ["nats", "raw"],
  ["nats", "raw-headers"],
  ["nats", "raw-fixed"],
  ["redis", "bus"],
  ["redis", "raw"],
];

const { values } = benchArgs({
  options: {
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
    rounds: { type: "string" },
    nats: { type: "string" },
    redis: { type: "string" },
  },
});
const mode = values.smoke ? "smoke" : "full";
const plan = { ...MODES[mode], ...(values.rounds && { rounds: Number(values.rounds) }) };
const outDir =
  values.out ??
  (values.smoke ? join(tmpdir(), "agent-bus-bench-transports-smoke") : join(here, "..", "results"));
const only = values.only === undefined ? undefined : new RegExp(values.only, "u");

for (const file of ["index.js", "transports/nats.js", "transports/redis.js", "transports/worker.js"]) {
  if (!existsSync(join(here, "..", "..", "dist", file))) {
    console.error(`bench:transports: dist/${file} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
}

/** A peer process with a mailbox: next() resolves with its next message. */
function startPeer(options) {
  const child = fork(join(here, "peer.mjs"), [JSON.stringify(options)], {
    // e.g. BENCH_PEER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile both sides.
    execArgv: process.env.BENCH_PEER_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox = [];
  const waiters = [];
  child.on("message", (message) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(message);
    else inbox.push(message);
  });
  child.on("exit", (code) => {
    for (const waiter of waiters.splice(0))
      waiter.reject(new Error(`${options.role} peer exited with ${code}`));
  });
  return {
    send: (message) => child.send(message),
    next: () => {
      if (inbox.length > 0) return Promise.resolve(inbox.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${options.role} peer silent for ${STEP_TIMEOUT_MS} ms`)),
          STEP_TIMEOUT_MS,
        );
        waiters.push({
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ close: true });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One sample: the subscriber counts, the publisher sends, the subscriber reports. */
async function runSample(pub, sub, sample, events, size, latency, rate) {
  sub.send({ expect: { sample, n: events, latency } });
  await sub.next();
  pub.send(latency ? { paced: { sample, n: events, size, rate } } : { burst: { sample, n: events, size } });
  const { sent } = await pub.next();
  sub.send({ sent: { sample } });
  const { done } = await sub.next();
  const seconds = done.received === 0 ? Number.NaN : (done.last - sent.start) / 1000;
  return {
    received: done.received,
    lost: events - done.received,
    eps: done.received / seconds,
    pubCpu: sent.cpu / events,
    subCpu: done.cpu / Math.max(1, done.received),
    latencies: done.latencies,
  };
}

/** One round of one broker case: fresh publisher and subscriber processes. */
async function runBrokerRound(caseKey, broker, client, size, url, round, results) {
  const namespace = `bench-transports-${process.pid}-${round}-${broker}-${client}-${size}`;
  const sub = startPeer({ role: "sub", broker, client, url, namespace });
  const subReady = (await sub.next()).ready;
  const pub = startPeer({ role: "pub", broker, client, url, namespace });
  const pubReady = (await pub.next()).ready;
  results[caseKey] ??= {
    broker,
    client,
    size,
    throughput: [],
    lost: 0,
    sent: 0,
    latency: [],
    lostLatency: 0,
    clockBias: [],
    pubCpu: [],
    subCpu: [],
    rounds: {},
  };
  const entry = results[caseKey];
  entry.rounds[round] = { eps: [], latencies: [] };
  entry.clockBias.push((subReady.anchor - pubReady.anchor) * 1000);
  let sample = 0;
  try {
    if (plan.warmBurst > 0) await runSample(pub, sub, sample++, plan.warmBurst, size, false);
    for (let b = 0; b < plan.bursts; b++) {
      const result = await runSample(pub, sub, sample++, plan.burst, size, false);
      entry.throughput.push(result.eps);
      entry.pubCpu.push(result.pubCpu);
      entry.subCpu.push(result.subCpu);
      entry.rounds[round].eps.push(result.eps);
      entry.lost += result.lost;
      entry.sent += plan.burst;
    }
    if (plan.warmLatency > 0) await runSample(pub, sub, sample++, plan.warmLatency, size, true, plan.rate);
    for (let l = 0; l < plan.latencySamples; l++) {
      const result = await runSample(pub, sub, sample++, plan.latencyEvents, size, true, plan.rate);
      entry.latency.push(result.latencies);
      entry.rounds[round].latencies.push(...result.latencies);
      entry.lostLatency += result.lost;
    }
  } finally {
    await Promise.all([pub.close(), sub.close()]);
  }
}

function runWorkerRound(caseKey, client, workers, size, results) {
  const options = {
    client,
    workers,
    size,
    n: plan.workerEvents,
    samples: plan.workerSamples,
    warm: plan.warmWorker,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, "workers.mjs"), JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), STEP_TIMEOUT_MS * 2);
    child.on("exit", (code) => {
      clearTimeout(timer);
      let samples;
      try {
        samples = JSON.parse(output).samples;
      } catch {
        return reject(new Error(`workers ${client} ×${workers} exited with ${code} before reporting`));
      }
      results[caseKey] ??= { client, workers, size, throughput: [] };
      for (const s of samples) results[caseKey].throughput.push(s.eps);
      resolve();
    });
  });
}

function planCases() {
  const cases = [];
  for (const size of plan.sizes)
    for (const [broker, client] of CLIENTS)
      cases.push({ key: `${broker} ${client} ${size}`, broker, client, size });
  for (const workers of plan.workerCounts)
    for (const client of ["bus", "raw"])
      cases.push({ key: `worker ${client} ${workers}`, broker: "worker", client, workers, size: 128 });
  return cases.filter((c) => only === undefined || only.test(c.key));
}

/** Per round: median events/s and p50 latency, for comparisons paired by round. */
function roundSummaries(rounds) {
  return Object.fromEntries(
    Object.entries(rounds).map(([round, r]) => [
      round,
      {
        eps: summarize(r.eps).median,
        p50: quantile(
          [...r.latencies].sort((a, b) => a - b),
          0.5,
        ),
      },
    ]),
  );
}

function summarizeResults(results) {
  const summary = {};
  for (const [key, entry] of Object.entries(results)) {
    const { latency, clockBias, throughput, pubCpu, subCpu, rounds, ...rest } = entry;
    summary[key] = {
      ...rest,
      ...(pubCpu && { pubCpuMicros: summarize(pubCpu), subCpuMicros: summarize(subCpu) }),
      ...(rounds && { rounds: roundSummaries(rounds) }),
      throughput: { ...summarize(throughput), samples: throughput },
      ...(latency && latency.length > 0 && { latency: latencySummary(latency) }),
      ...(clockBias && { clockBiasMicros: summarize(clockBias.map(Math.abs)) }),
    };
  }
  return summary;
}

function machine() {
  let git = "unknown";
  try {
    git = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here, encoding: "utf8" }).trim();
  } catch {}
  return {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    loadBefore: loadavg()[0],
    commit: git,
    date: new Date().toISOString(),
  };
}

const started = Date.now();
const info = machine();
const own = values.nats === undefined || values.redis === undefined ? await startServers() : undefined;
const urls = { nats: values.nats ?? own?.nats, redis: values.redis ?? own?.redis };
const results = {};
const failures = [];
const cases = planCases();
try {
  for (let round = 0; round < plan.rounds; round++) {
    // A different starting case each round, so that no client always runs first or last.
    const order = cases.map((_, i) => cases[(i + round * 3) % cases.length]);
    for (const c of order) {
      const t = Date.now();
      try {
        if (c.broker === "worker") await runWorkerRound(c.key, c.client, c.workers, c.size, results);
        else await runBrokerRound(c.key, c.broker, c.client, c.size, urls[c.broker], round, results);
        console.log(`round ${round + 1}/${plan.rounds} ${c.key}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
      } catch (error) {
        // One failed case costs its sample, not the run; the exit code still says so.
        failures.push(`round ${round + 1} ${c.key}: ${error.message}`);
        console.error(`round ${round + 1}/${plan.rounds} ${c.key} failed: ${error.message}`);
      }
    }
  }
} finally {
  own?.stop();
}
info.loadAfter = loadavg()[0];
info.seconds = (Date.now() - started) / 1000;
info.servers = own
  ? "private nats-server and redis-server started by the runner"
  : `${urls.nats}, ${urls.redis}`;
const report = { mode, plan, machine: info, failures, cases: summarizeResults(results) };
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "transports.json"), `${JSON.stringify(report, null, 2)}\n`);
const markdown = renderMarkdown(report);
writeFileSync(join(outDir, "transports.md"), markdown);
console.log(markdown);
console.log(
  `wrote ${relative(process.cwd(), join(outDir, "transports.md"))} and transports.json in ${info.seconds.toFixed(0)} s`,
);
if (failures.length > 0) {
  console.error(`bench:transports: ${failures.length} case run(s) failed:\n  ${failures.join("\n  ")}`);
  process.exitCode = 1;
}
