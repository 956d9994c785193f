// The seed's Example 2: a logging system that writes every event as a JSON line.
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bus } from "agent-bus";

const logFile = join(process.argv[2] ?? mkdtempSync(join(tmpdir(), "agent-bus-")), "events.log");

/** Universal event logger. */
function logAllEvents(data: unknown): void {
  appendFileSync(logFile, `${JSON.stringify(data)}\n`);
}

// Log all types of events
for (const eventType of ["task_started", "task_completed", "model_loaded"]) {
  bus.subscribe(eventType, logAllEvents);
}
// Beyond the seed: one pattern subscription catches every event type, even ones not listed.
bus.subscribe(">", (data, event) => appendFileSync(logFile, `${event.type} ${JSON.stringify(data)}\n`));

bus.publish("task_started", { task_id: 1 });
bus.publish("model_loaded", { model_name: "llama-7b" });
bus.publish("chat_message", { user: "John", text: "Hello" });

process.stdout.write(readFileSync(logFile, "utf8"));
// Output:
// {"task_id":1}
// task_started {"task_id":1}
// {"model_name":"llama-7b"}
// model_loaded {"model_name":"llama-7b"}
// chat_message {"user":"John","text":"Hello"}
