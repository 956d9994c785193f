// The seed's Example 1: task monitoring.
import { bus } from "agent-bus";

interface TaskEvent {
  task_id: number;
}

class TaskMonitor {
  readonly tasks = new Map<number, string>();

  constructor() {
    bus.subscribe("task_started", (data: TaskEvent) => this.onStart(data));
    bus.subscribe("task_completed", (data: TaskEvent) => this.onComplete(data));
  }

  onStart(data: TaskEvent): void {
    this.tasks.set(data.task_id, "running");
  }

  onComplete(data: TaskEvent): void {
    this.tasks.set(data.task_id, "completed");
  }
}

const monitor = new TaskMonitor();

// Somewhere else in your code
bus.publish("task_started", { task_id: 1 });
bus.publish("task_started", { task_id: 2 });
bus.publish("task_completed", { task_id: 1 });

for (const [taskId, state] of monitor.tasks) console.log(`task ${taskId}: ${state}`);
// Output:
// task 1: completed
// task 2: running
