#!/usr/bin/env node
/**
 * Instructions a publish costs on the publishing side, agent-bus against the raw client, counted
 * by callgrind: steadier than CPU time on a shared machine, and it shows where the difference
 * goes. Each client publishes to a private broker twice (two event counts) under callgrind; the
 * difference of the two runs, divided by the difference in events, is one event's cost.
 *
 *   node bench/transports/count.mjs                          NATS, 128 B: bus, raw and raw-headers
 *   options: --broker nats|redis  --clients bus,raw  --size <bytes> (128)
 *            --events <small>,<large> (20000,60000)  --top <n> (0: totals only; n: the n largest
 *            functions of each client)
 *
 * Needs valgrind, nats-server and redis-server; run `npm run build` first (this reads dist/).
 * The subscribing side cannot be counted this way: under valgrind it falls behind the server,
 * and the client's buffering of the backlog swamps the count (docs/bench-transports.md).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { callgrind, perOperation, readRun } from "../_callgrind.mjs";
import { startServers } from "./_servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    broker: { type: "string", default: "nats" },
    clients: { type: "string" },
    size: { type: "string", default: "128" },
    events: { type: "string", default: "20000,60000" },
    top: { type: "string", default: "0" },
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

const servers = await startServers();
const dir = mkdtempSync(join(tmpdir(), "agent-bus-count-"));
try {
  for (const client of clients) {
    const run = (n) => {
      const options = { broker, client, url: servers[broker], namespace: `count-${client}`, n, size };
      const command = [
        process.execPath,
        "--perf-basic-prof",
        "--no-compact-code-space",
        join(here, "_publisher.mjs"),
        JSON.stringify(options),
      ];
      return callgrind(command, join(dir, `${client}.${n}`), `${broker} ${client} ${n}`);
    };
    // One after the other: two under valgrind at once would share the machine's two cores with the broker.
    const counts = [readRun(await run(small)), readRun(await run(large))];
    const { rows, total } = perOperation(counts[0], counts[1], large - small);
    console.log(
      `${broker} ${client} ${size} B: ${total.toFixed(0)} instructions an event (${small} and ${large} events)`,
    );
    for (const row of rows.slice(0, top)) console.log(`${row.cost.toFixed(1).padStart(9)}  ${row.name}`);
  }
} finally {
  servers.stop();
  rmSync(dir, { recursive: true, force: true });
}
