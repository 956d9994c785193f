/**
 * demo: a small team of simulated agents at work on the bus. Each tick one agent starts or
 * finishes a task and chats about it; a summary line is logged every few seconds.
 */
import type { ExtensionContext } from "agent-bus/host";

export const params = {
  display_name: "Demo Agents",
  /** Comma-separated agent names. */
  agents: "planner,coder,reviewer,tester",
  /** Milliseconds between two agent actions. */
  interval_ms: 400,
  /** Milliseconds between two summary lines; 0 logs none. */
  summary_every_ms: 5000,
  /** Model announced with model_loaded at start. */
  model: "llama-7b",
};

const TITLES = [
  "split the feature into tasks",
  "write the parser",
  "review the parser",
  "write tests",
  "fix a flaky test",
  "update the docs",
  "benchmark publish",
  "refactor the router",
];

interface Agent {
  readonly name: string;
  /** Chance of success, 0..1: each agent has its own. */
  readonly skill: number;
  task?: { id: number; title: string; startedAt: number; ticksLeft: number };
}

interface Tally {
  events: number;
  completed: number;
  failed: number;
  last: string;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** One action of one agent: start a task when idle, else work on it and finish when done. */
function act(agent: Agent, ctx: ExtensionContext<typeof params>, tally: Tally, nextId: () => number): void {
  const publish = (type: string, data: unknown) => {
    tally.events++;
    ctx.bus.publish(type, data);
  };
  if (agent.task === undefined) {
    agent.task = {
      id: nextId(),
      title: pick(TITLES),
      startedAt: Date.now(),
      ticksLeft: 1 + Math.floor(Math.random() * 4),
    };
    publish("task_started", { task_id: agent.task.id, agent: agent.name, title: agent.task.title });
    return;
  }
  if (--agent.task.ticksLeft > 0) {
    publish("chat_message", { user: agent.name, text: `working on "${agent.task.title}"` });
    return;
  }
  const { id, title } = agent.task;
  agent.task = undefined;
  const success = Math.random() < agent.skill;
  // Simulated seconds, so the learning's 60 s scale shows a spread.
  const reaction_time = round(0.5 + Math.random() * 40);
  const weights = {
    logic: round(0.5 + Math.random() / 2),
    memory: round(0.5 + Math.random() / 2),
    creativity: round(0.5 + Math.random() / 2),
  };
  publish("task_completed", { task_id: id, agent: agent.name, success, reaction_time, weights });
  publish("metric", { name: success ? "tasks_succeeded" : "tasks_failed", value: 1 });
  if (success) {
    tally.completed++;
    tally.last = `${agent.name} finished "${title}" in ${reaction_time}s`;
  } else {
    tally.failed++;
    tally.last = `${agent.name} failed "${title}"`;
    publish("task_failed", { task_id: id, agent: agent.name, error: "tests are red" });
  }
  publish("chat_message", {
    user: agent.name,
    text: success ? `done: ${title}` : `stuck on ${title}, retrying later`,
  });
}

async function summary(ctx: ExtensionContext<typeof params>, tally: Tally): Promise<string> {
  let learning = "";
  try {
    const state = (await ctx.bus.request("agent_learning.progress", null, { timeout: 1000 })) as {
      progress: number;
    };
    learning = ` · learning progress ${state.progress.toFixed(1)}%`;
  } catch {
    // agent_learning is not loaded: the summary goes without it.
  }
  const tasks = tally.completed === 1 ? "task" : "tasks";
  return `${tally.events} events · ${tally.completed} ${tasks} done, ${tally.failed} failed${learning} · last: ${tally.last}`;
}

/** Below this, the demo would flood the bus (and the event log) rather than show it at work. */
const MIN_INTERVAL_MS = 10;
/** Below this, summary lines would flood the log. */
const MIN_SUMMARY_MS = 100;
/** The longest delay a Node timer keeps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function setup(ctx: ExtensionContext<typeof params>) {
  const { interval_ms, summary_every_ms } = ctx.params;
  // Past MAX_TIMER_MS, Node fires a timer after 1 ms: the flood again.
  if (!Number.isFinite(interval_ms) || interval_ms < MIN_INTERVAL_MS || interval_ms > MAX_TIMER_MS) {
    throw new RangeError(
      `demo-interval_ms must be from ${MIN_INTERVAL_MS} to ${MAX_TIMER_MS} (milliseconds), got ${interval_ms}`,
    );
  }
  const summaryOff = summary_every_ms === 0;
  if (!summaryOff && !(summary_every_ms >= MIN_SUMMARY_MS && summary_every_ms <= MAX_TIMER_MS)) {
    throw new RangeError(
      `demo-summary_every_ms must be 0 (no summary) or from ${MIN_SUMMARY_MS} to ${MAX_TIMER_MS}, got ${summary_every_ms}`,
    );
  }
  const names = ctx.params.agents
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const agents: Agent[] = names.map((name, i) => ({ name, skill: 0.6 + ((i * 0.13) % 0.35) }));
  const tally: Tally = { events: 0, completed: 0, failed: 0, last: "nothing yet" };
  let taskId = 0;
  ctx.bus.publish("model_loaded", { model_name: ctx.params.model });
  ctx.log.info(
    `${agents.length} agents at work: ${names.join(", ")} (${summaryOff ? "no summary" : `a summary every ${summary_every_ms / 1000}s`})`,
  );
  const ticker = setInterval(() => {
    if (!ctx.signal.aborted && agents.length > 0) act(pick(agents), ctx, tally, () => ++taskId);
  }, ctx.params.interval_ms);
  const reporter =
    ctx.params.summary_every_ms > 0
      ? setInterval(() => {
          summary(ctx, tally).then(
            (line) => ctx.signal.aborted || ctx.log.info(line),
            (error: unknown) => ctx.log.error("summary failed", error),
          );
        }, ctx.params.summary_every_ms)
      : undefined;
  return () => {
    clearInterval(ticker);
    clearInterval(reporter);
    ctx.log.info(`stopped after ${tally.events} events`);
  };
}
