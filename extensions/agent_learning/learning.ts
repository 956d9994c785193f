/**
 * The learning metrics of the original agent_learning extension: five series fed by
 * `task_completed` events, and a progress score over them.
 */

/** The five series, in the order progress averages them. */
export const SERIES = ["success_rate", "reaction_time", "logic", "memory", "creativity"] as const;

/** The skills whose weight an event may carry. */
export const SKILLS = ["logic", "memory", "creativity"] as const;

/** Values each series keeps; older ones drop out. */
export const WINDOW = 500;

/** A reaction time at or above this many seconds scores 0. */
export const MAX_REACTION_SECONDS = 60;

/** Version of the progress.json format. */
export const STATE_VERSION = 1;

export type SeriesName = (typeof SERIES)[number];

/** The state, exactly as progress.json stores it. */
export interface LearningState extends Record<SeriesName, number[]> {
  /** Mean over the five series of each series' mean, times 100. */
  progress: number;
  /** Unix time in seconds of the last accepted event; null before the first. */
  last_update_ts: number | null;
  version: number;
}

/** The data of a `task_completed` event. */
export interface TaskCompleted {
  success?: boolean;
  /** Seconds the task took. */
  reaction_time?: number;
  weights?: Partial<Record<(typeof SKILLS)[number], number>>;
}

/** A state with empty series. */
export function emptyState(): LearningState {
  return {
    success_rate: [],
    reaction_time: [],
    logic: [],
    memory: [],
    creativity: [],
    progress: 0,
    last_update_ts: null,
    version: STATE_VERSION,
  };
}

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/**
 * Largest weight, either sign: a series of WINDOW such values sums far below the largest double,
 * so that progress stays a number (1e308 twice sums to Infinity, which progress.json stores as
 * null, and a window holding it would refuse every later event).
 */
const MAX_WEIGHT = 1e6;

/** A value for a message: JSON would print Infinity and NaN as null. */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/**
 * The values one event adds to each series, or the reason the event is refused as a whole.
 * Missing fields take the original's defaults: success false, reaction_time 0, weights 1.0.
 */
export function scoreEvent(data: unknown): Record<SeriesName, number> | string {
  if (data === undefined || data === null) return "no data";
  if (typeof data !== "object" || Array.isArray(data))
    return `data must be an object, got ${JSON.stringify(data)}`;
  const { success = false, reaction_time = 0, weights = {} } = data as Record<string, unknown>;
  if (typeof success !== "boolean") return `success must be true or false, got ${JSON.stringify(success)}`;
  if (!isFiniteNumber(reaction_time)) {
    return `reaction_time must be a finite number of seconds, got ${shown(reaction_time)}`;
  }
  if (typeof weights !== "object" || weights === null || Array.isArray(weights)) {
    return `weights must be an object, got ${JSON.stringify(weights)}`;
  }
  const scores = {
    success_rate: success ? 1 : 0,
    reaction_time: 1 - Math.min(Math.max(reaction_time, 0), MAX_REACTION_SECONDS) / MAX_REACTION_SECONDS,
  } as Record<SeriesName, number>;
  for (const skill of SKILLS) {
    // Only a missing weight defaults: null is a value, and not a number.
    const given = (weights as Record<string, unknown>)[skill];
    const weight = given === undefined ? 1.0 : given;
    if (!isFiniteNumber(weight) || Math.abs(weight) > MAX_WEIGHT) {
      return `weights.${skill} must be a number from -${MAX_WEIGHT} to ${MAX_WEIGHT}, got ${shown(weight)}`;
    }
    scores[skill] = success ? weight : weight / 2;
  }
  return scores;
}

const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Mean over the five series of each series' mean, times 100 (an empty series counts 0). */
export function computeProgress(state: Record<SeriesName, readonly number[]>): number {
  return (SERIES.reduce((sum, name) => sum + mean(state[name]), 0) / SERIES.length) * 100;
}

/** The state after one `task_completed` event's data, or why the event is refused as a whole. */
export function learn(state: LearningState, data: unknown, now: number): LearningState | string {
  const scores = scoreEvent(data);
  return typeof scores === "string" ? scores : applyScores(state, scores, now);
}

/** The state after one event: each series gets its value and keeps its last WINDOW values. */
export function applyScores(
  state: LearningState,
  scores: Record<SeriesName, number>,
  now: number,
): LearningState {
  const next = { ...state };
  for (const name of SERIES) next[name] = [...state[name], scores[name]].slice(-WINDOW);
  next.progress = computeProgress(next);
  next.last_update_ts = now;
  return next;
}

/** Checks a parsed progress.json; returns the state or why it cannot be used. */
export function checkState(value: unknown): LearningState | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
  const record = value as Record<string, unknown>;
  for (const name of SERIES) {
    const series = record[name];
    if (!Array.isArray(series) || !series.every(isFiniteNumber)) return `${name} is not a list of numbers`;
  }
  const ts = record.last_update_ts;
  if (ts !== null && !isFiniteNumber(ts)) return "last_update_ts is not a number or null";
  const state = emptyState();
  for (const name of SERIES) state[name] = (record[name] as number[]).slice(-WINDOW);
  state.last_update_ts = ts as number | null;
  // Progress is recomputed rather than trusted: the series are the source of truth.
  state.progress = computeProgress(state);
  return state;
}
