/** task_monitor: the seed's Example 1, tracking each task's state from the task events. */
import type { ExtensionContext } from "agent-bus/host";

export const params = {
  display_name: "Task Monitor",
  /** Finished tasks kept; the oldest finished ones are forgotten first. */
  max_tasks: 1000,
};

type TaskState = "running" | "completed" | "failed";

interface TaskEvent {
  task_id?: unknown;
  success?: unknown;
}

export function setup(ctx: ExtensionContext<typeof params>) {
  const { bus, log, signal } = ctx;
  const tasks = new Map<string, TaskState>();
  const mark = (data: unknown, state: TaskState | "by-success") => {
    const event = (data ?? {}) as TaskEvent;
    if (typeof event.task_id !== "string" && typeof event.task_id !== "number") return;
    const id = String(event.task_id);
    const next = state === "by-success" ? (event.success === false ? "failed" : "completed") : state;
    // Re-inserting moves the task to the end of the map, so the oldest stay at its start.
    tasks.delete(id);
    tasks.set(id, next);
    for (const [oldId, oldState] of tasks) {
      if (tasks.size <= ctx.params.max_tasks) break;
      if (oldState !== "running") tasks.delete(oldId);
    }
  };
  bus.subscribe("task_started", (data: unknown) => mark(data, "running"), { signal });
  bus.subscribe("task_completed", (data: unknown) => mark(data, "by-success"), { signal });
  bus.subscribe("task_failed", (data: unknown) => mark(data, "failed"), { signal });

  const status = () => {
    const counts = { running: 0, completed: 0, failed: 0 };
    for (const state of tasks.values()) counts[state]++;
    return { counts, tasks: Object.fromEntries(tasks) };
  };
  const offResponder = bus.respond("task_monitor.status", status);
  ctx.http.route("GET", "/tasks", status);
  return () => {
    offResponder();
    const { counts } = status();
    log.info(`tasks: ${counts.completed} completed, ${counts.failed} failed, ${counts.running} running`);
  };
}
