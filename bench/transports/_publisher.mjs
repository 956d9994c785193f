#!/usr/bin/env node
/**
 * A publisher alone, for bench/transports/count.mjs to run under callgrind:
 * `node _publisher.mjs '{"broker":"nats","client":"bus","url":"nats://…","namespace":"count","n":20000,"size":128}'`
 * publishes n events of `size` bytes of JSON (the data of peer.mjs, with a fixed send time) flat
 * out, yielding to I/O every 500 as peer.mjs does, then closes. Nobody subscribes: what is
 * counted is the publishing side only.
 */

import { open } from "./_clients.mjs";

const CHUNK = 500;
const options = JSON.parse(process.argv[2]);
const client = await open(options);
const probe = JSON.stringify({ s: 0, i: 0, t: 1234.5678, pad: "" }).length;
const pad = "x".repeat(Math.max(0, options.size - probe - 3));
const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));
for (let i = 0; i < options.n; i++) {
  client.publish({ s: 0, i, t: 1234.5678, pad });
  if (i % CHUNK === CHUNK - 1) await yieldToIo();
}
await yieldToIo();
await client.close();
