// The seed's "Error Handling": a failing callback is logged and the others still run.
import { bus } from "agent-bus";

function buggyCallback(_data: unknown): void {
  throw new Error("Oops!");
}

bus.subscribe("test", buggyCallback);
bus.subscribe("test", () => console.log("Other callbacks still execute normally"));
bus.publish("test", {});
// Output (the first line on stderr):
// [EventBus] Error in callback for test: Oops!
// Other callbacks still execute normally
