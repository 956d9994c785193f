// One of two processes on one bus: run `node --import tsx examples/scaling-out/subscriber.ts`,
// then the publisher in another terminal. Needs nats-server (nats-server -js) on 127.0.0.1:4222.
import { EventBus } from "agent-bus";
import { natsTransport } from "agent-bus/nats";

const servers = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const namespace = process.env.AGENT_BUS_NAMESPACE ?? "demo";
const bus = new EventBus({ transport: natsTransport({ servers, namespace }) });

bus.subscribe("task.*", (data, event) =>
  console.log(`${event.type} ${JSON.stringify(data)} from ${event.source}`),
);
bus.subscribe("task.completed", (data) => console.log(`worker got ${JSON.stringify(data)}`), {
  group: "workers",
});
bus.respond("math.double", (n: number) => n * 2);
await bus.ready();
console.log("subscriber ready");

process.on("SIGINT", () => void bus.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void bus.close().then(() => process.exit(0)));
