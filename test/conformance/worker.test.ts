import { MessageChannel, type MessagePort } from "node:worker_threads";
import { afterAll } from "vitest";
import type { PortLike } from "../../src/transports/worker.js";
import { workerTransport } from "../../src/transports/worker.js";
import { describeTransportConformance } from "./suite.js";

const ports: MessagePort[] = [];
afterAll(() => {
  for (const port of ports) port.close();
});

/** Every bus of the suite joins a broker in this thread over a real MessagePort pair. */
describeTransportConformance("worker (message ports)", () => {
  const broker = workerTransport({ ports: [], maxPayload: 64 * 1024 });
  const channel = () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    broker.attach(port1 as unknown as PortLike);
    return port2 as unknown as PortLike;
  };
  return {
    transport: (namespace) => workerTransport({ port: channel(), namespace, maxPayload: 64 * 1024 }),
    maxPayload: 64 * 1024,
    async injectMalformed(namespace, eventType) {
      const port = channel();
      const good = { "ce-specversion": "1.0", "ce-id": "x", "ce-type": eventType, "ce-source": "test" };
      const frames = [
        "not a frame",
        { headers: { ...good, "ce-specversion": "0.3" }, body: new Uint8Array() },
        { headers: good, body: new TextEncoder().encode("{not json") },
        { headers: good, body: "a string, not bytes" },
      ];
      for (const frame of frames) port.postMessage({ t: "pub", ns: namespace, type: eventType, frame });
      await new Promise((resolve) => setTimeout(resolve, 50));
      return frames.length;
    },
  };
});
