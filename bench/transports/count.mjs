#!/usr/bin/env node
/**
 * Instructions an event costs on the publishing or the subscribing side, agent-bus against the raw
 * client, counted by callgrind: steadier than CPU time on a shared machine, and it shows where the
 * difference goes. Each client runs twice (two event counts) under callgrind; the difference of
 * the two runs, divided by the difference in events, is one event's cost.
 *
 *   node bench/transports/count.mjs                          NATS, 128 B: bus, raw and raw-headers
 *   options: --broker nats|redis  --clients bus,raw  --size <bytes> (128)
 *            --side pub|sub (pub)  --events <small>,<large> (20000,60000)
 *            --top <n> (0: totals only; n: the n largest functions of each client)
 *
 * pub: the client publishes to a private broker. sub (NATS only): a subscriber under valgrind
 * falls behind a live server and the client's backlog swamps the count, so the messages the
 * private nats-server delivers for that client's publisher are recorded off valgrind, then a
 * replay server (_replay.mjs) hands them to the counted subscriber at its own pace.
 *
 * Needs valgrind, nats-server and redis-server; run `npm run build` first (this reads dist/).
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "../_args.mjs";
import { callgrind, perOperation, readRun } from "../_callgrind.mjs";
import { record, replay } from "./_replay.mjs";
import { startServers } from "./_servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = benchArgs({
  options: {
    broker: { type: "string", default: "nats" },
    clients: { type: "string" },
    size: { type: "string", default: "128" },
    events: { type: "string", default: "20000,60000" },
    top: { type: "string", default: "0" },
    side: { type: "string", default: "pub" },
  },
});

function usage(message) {
  console.error(`bench/transports/count.mjs: ${message}`);
  process.exit(2);
}

const broker = values.broker;
const known = { nats: ["bus", "raw", "raw-headers"], redis: ["bus", "raw"] };
if (!Object.hasOwn(known, broker)) usage(`--broker is nats or redis, got ${JSON.stringify(broker)}`);
const clients = values.clients?.split(",") ?? known[broker];
for (const client of clients)
  if (!known[broker].includes(client)) usage(`no client ${JSON.stringify(client)} for ${broker}`);
const size = Number(values.size);
if (!Number.isInteger(size) || size < 32)
  usage(`--size must be an integer of 32 or more, got ${values.size}`);
const [small, large] = values.events.split(",").map(Number);
if (!(Number.isInteger(small) && Number.isInteger(large) && small >= 0 && large > small))
  usage(`--events must be two integers <small>,<large> with small < large, got ${values.events}`);
const top = Number(values.top);
const side = values.side;
if (side !== "pub" && side !== "sub") usage(`--side is pub or sub, got ${JSON.stringify(side)}`);
if (side === "sub" && broker !== "nats") usage("--side sub counts NATS subscribers only");
const TYPE = "bench.event";

/** Runs the publisher of `options` to its end, off valgrind. */
function publishAll(options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, "_publisher.mjs"), JSON.stringify(options)], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (status) => (status === 0 ? resolve() : reject(new Error(`publisher exit ${status}`))));
  });
}

/** The publishing side's runs: n events to the private broker. */
function publisherRun(client) {
  return (n) => {
    const options = { broker, client, url: servers[broker], namespace: `count-${client}`, n, size };
    return callgrind(
      node("_publisher.mjs", options),
      join(dir, `${client}.${n}`),
      `${broker} ${client} ${n}`,
    );
  };
}

/** The subscribing side's runs: the first n of what the server delivered, replayed. */
async function subscriberRun(client) {
  const namespace = `count-${client}`;
  const options = { broker, client, url: servers.nats, namespace, n: large, size };
  const messages = await record(servers.nats, `${namespace}.${TYPE}`, large, () => publishAll(options));
  return async (n) => {
    const server = await replay(messages.slice(0, n));
    try {
      const url = `nats://127.0.0.1:${server.port}`;
      const command = node("_subscriber.mjs", { broker, client, url, namespace, n });
      return await callgrind(command, join(dir, `${client}.sub.${n}`), `${broker} ${client} sub ${n}`);
    } finally {
      await server.close();
    }
  };
}

/**
 * A node command for one of this folder's scripts, with the map callgrind's names need. V8 runs
 * single-threaded on a fixed heap-growing schedule: its background compiles and collections,
 * counted whenever they happen to run, moved a count by thousands from one run to the next.
 */
function node(script, options) {
  return [
    process.execPath,
    "--perf-basic-prof",
    "--no-compact-code-space",
    "--single-threaded",
    "--predictable-gc-schedule",
    join(here, script),
    JSON.stringify(options),
  ];
}

const servers = await startServers();
const dir = mkdtempSync(join(tmpdir(), "agent-bus-count-"));
try {
  for (const client of clients) {
    const run = side === "pub" ? publisherRun(client) : await subscriberRun(client);
    // One after the other: two under valgrind at once would share the machine's two cores with the broker.
    const counts = [readRun(await run(small)), readRun(await run(large))];
    const { rows, total } = perOperation(counts[0], counts[1], large - small);
    console.log(
      `${broker} ${client} ${size} B, ${side === "pub" ? "publisher" : "subscriber"}: ${total.toFixed(0)} instructions an event (${small} and ${large} events)`,
    );
    for (const row of rows.slice(0, top)) console.log(`${row.cost.toFixed(1).padStart(9)}  ${row.name}`);
  }
} finally {
  servers.stop();
  rmSync(dir, { recursive: true, force: true });
}
