// The seed's "Basic Usage" and "Multiple Subscribers", in TypeScript.
import { bus } from "agent-bus";

// Define a callback function
function onEvent(data: unknown): void {
  console.log(`Received event: ${JSON.stringify(data)}`);
}

// Subscribe to an event type
bus.subscribe("my_event", onEvent);

// Publish an event
bus.publish("my_event", { message: "Hello, World!" });

// Unsubscribe when done
bus.unsubscribe("my_event", onEvent);
bus.publish("my_event", { message: "nobody hears this" });

// Both handlers will receive the event
const handler1 = (data: unknown) => console.log(`Handler 1: ${JSON.stringify(data)}`);
const handler2 = (data: unknown) => console.log(`Handler 2: ${JSON.stringify(data)}`);
bus.subscribe("task_completed", handler1);
bus.subscribe("task_completed", handler2);
bus.publish("task_completed", { task: "done" });
// Output:
// Received event: {"message":"Hello, World!"}
// Handler 1: {"task":"done"}
// Handler 2: {"task":"done"}
