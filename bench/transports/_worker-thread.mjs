/**
 * A subscriber thread of the worker-threads case. workerData = { client: "bus" | "raw", control }
 * where control is a MessagePort of its own (the transport owns parentPort). It counts the
 * events of the sample the main thread announced and reports when all of them arrived.
 */

import { parentPort, workerData } from "node:worker_threads";
import { now } from "./_clock.mjs";

const { client, control } = workerData;
let current;

function arrive(data) {
  const sample = current;
  if (sample === undefined || data.s !== sample.sample) return;
  if (++sample.received === sample.n) {
    current = undefined;
    control.postMessage({ done: { sample: sample.sample, last: now() } });
  }
}

control.on("message", (message) => {
  if (message.expect) {
    current = { ...message.expect, received: 0 };
    control.postMessage({ expecting: message.expect.sample });
  } else if (message.close) {
    control.close();
    process.exit(0);
  }
});

if (client === "bus") {
  const { EventBus } = await import("agent-bus");
  const { workerTransport } = await import("agent-bus/worker");
  const bus = new EventBus({ transport: workerTransport({ namespace: "bench" }) });
  bus.subscribe("bench.event", (data) => arrive(data));
  await bus.ready();
} else {
  parentPort.on("message", arrive);
}
control.postMessage({ ready: true });
