// The other process: publishes one event, asks one question, and exits.
import { EventBus } from "agent-bus";
import { natsTransport } from "agent-bus/nats";

const servers = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const namespace = process.env.AGENT_BUS_NAMESPACE ?? "demo";
const bus = new EventBus({ source: "publisher", transport: natsTransport({ servers, namespace }) });
await bus.ready();

bus.publish("task.completed", { task_id: 1, success: true });
console.log(`21 doubled is ${await bus.request("math.double", 21)}`);
await bus.close(); // drains: the event is sent before the process exits
