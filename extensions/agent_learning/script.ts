/**
 * agent_learning: learns from `task_completed` events, as the original extension did.
 * State in `<dataDir>/progress.json`, served at `GET /learning/progress`, and answered on
 * the bus to `agent_learning.progress` requests.
 */
import { resolve } from "node:path";
import type { ExtensionContext } from "agent-bus/host";
import { type LearningState, learn } from "./learning.js";
import { createSaver, readState } from "./store.js";

export const params = {
  display_name: "Agent Learning",
  /** The event type it learns from. */
  event: "task_completed",
};

export function setup(ctx: ExtensionContext<typeof params>) {
  const { bus, log } = ctx;
  const file = resolve(ctx.dataDir, "progress.json");
  let state: LearningState = readState(file, (message) => log.warn(message));
  const saver = createSaver(file, (error) => log.error(`could not save ${file}`, error));
  const count = state.success_rate.length;
  log.info(`progress ${state.progress.toFixed(1)}% over ${count} task(s), saved in ${file}`);

  bus.subscribe(
    ctx.params.event,
    (data: unknown) => {
      const next = learn(state, data, Date.now() / 1000);
      if (typeof next === "string") {
        log.warn(`ignored a ${ctx.params.event} event: ${next}`);
        return;
      }
      state = next;
      saver.save(state);
    },
    { signal: ctx.signal },
  );
  const offResponder = bus.respond("agent_learning.progress", () => state);
  ctx.http.route("GET", "/learning/progress", () => state);

  return async () => {
    offResponder();
    await saver.flush();
    log.info(`progress ${state.progress.toFixed(1)}% saved`);
  };
}
