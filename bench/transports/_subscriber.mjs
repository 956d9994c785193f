#!/usr/bin/env node
/**
 * A subscriber alone, for bench/transports/count.mjs --side sub to run under callgrind:
 * `node _subscriber.mjs '{"broker":"nats","client":"bus","url":"nats://…","namespace":"count","n":20000}'`
 * subscribes, counts the events of peer.mjs's shape that arrive, and closes after n of them.
 */

import { open } from "./_clients.mjs";

const options = JSON.parse(process.argv[2]);
const client = await open(options);
let received = 0;
let checksum = 0;
const done = new Promise((resolve) => {
  void client.subscribe((data) => {
    // Read the data as the benchmark's subscriber does, so that nothing is left undecoded.
    checksum += data.i;
    if (++received === options.n) resolve();
  });
});
await done;
const expected = (options.n * (options.n - 1)) / 2;
if (checksum !== expected) {
  console.error(`_subscriber.mjs: the events' indexes sum to ${checksum}, not ${expected}`);
  process.exitCode = 1;
}
await client.close();
