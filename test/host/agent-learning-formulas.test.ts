import { describe, expect, it } from "vitest";
import { applyScores, emptyState, scoreEvent, WINDOW } from "../../extensions/agent_learning/learning.js";
import { startLearning } from "./helpers.js";

describe("agent_learning formulas", () => {
  it("scores worked events as computed by hand", async () => {
    const { host, progress } = await startLearning();
    // Event 1: success, 12 s, logic 0.8, memory 1.2, creativity default 1.0.
    //   success 1; reaction 1 - 12/60 = 0.8; logic 0.8; memory 1.2; creativity 1.0
    //   progress = (1 + 0.8 + 0.8 + 1.2 + 1.0) / 5 * 100 = 4.8 / 5 * 100 = 96
    host.bus.publish("task_completed", {
      success: true,
      reaction_time: 12,
      weights: { logic: 0.8, memory: 1.2 },
    });
    let state = await progress();
    expect(state.success_rate).toEqual([1]);
    expect(state.reaction_time[0]).toBeCloseTo(0.8, 12);
    expect([state.logic, state.memory, state.creativity]).toEqual([[0.8], [1.2], [1]]);
    expect(state.progress).toBeCloseTo(96, 10);

    // Event 2: failure, 90 s (capped at 60), same weights: each weight halves.
    //   success 0; reaction 1 - 60/60 = 0; logic 0.4; memory 0.6; creativity 0.5
    //   means: success 0.5, reaction 0.4, logic 0.6, memory 0.9, creativity 0.75
    //   progress = (0.5 + 0.4 + 0.6 + 0.9 + 0.75) / 5 * 100 = 3.15 / 5 * 100 = 63
    host.bus.publish("task_completed", {
      success: false,
      reaction_time: 90,
      weights: { logic: 0.8, memory: 1.2 },
    });
    state = await progress();
    expect(state.success_rate).toEqual([1, 0]);
    expect(state.reaction_time[1]).toBe(0);
    expect(state.logic[1]).toBeCloseTo(0.4, 12);
    expect(state.memory[1]).toBeCloseTo(0.6, 12);
    expect(state.creativity[1]).toBe(0.5);
    expect(state.progress).toBeCloseTo(63, 10);

    // Event 3: success, -5 s (counts as 0), no weights (all 1.0).
    //   success 1; reaction 1 - 0/60 = 1; logic 1; memory 1; creativity 1
    //   means over 3 values, in 30ths: success 2/3 = 20/30, reaction 1.8/3 = 18/30,
    //   logic 2.2/3 = 22/30, memory 2.8/3 = 28/30, creativity 2.5/3 = 25/30
    //   progress = (113/30) / 5 * 100 = 113/150 * 100 = 75.333...
    host.bus.publish("task_completed", { success: true, reaction_time: -5 });
    state = await progress();
    expect(state.reaction_time[2]).toBe(1);
    expect(state.progress).toBeCloseTo((113 / 150) * 100, 10);
    expect(state.last_update_ts).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it("takes the original's defaults for missing fields: success false, reaction 0 s, weights 1.0", () => {
    // {} -> success 0; reaction 1 - 0/60 = 1; each weight 1.0 halved on failure = 0.5
    expect(scoreEvent({})).toEqual({
      success_rate: 0,
      reaction_time: 1,
      logic: 0.5,
      memory: 0.5,
      creativity: 0.5,
    });
    // progress = (0 + 1 + 0.5 + 0.5 + 0.5) / 5 * 100 = 50
    const state = applyScores(
      emptyState(),
      scoreEvent({}) as Exclude<ReturnType<typeof scoreEvent>, string>,
      1,
    );
    expect(state.progress).toBeCloseTo(50, 10);
    expect(state.last_update_ts).toBe(1);
  });

  it("keeps the last 500 values of each series", () => {
    const fail = scoreEvent({ success: false, reaction_time: 60 }) as Exclude<
      ReturnType<typeof scoreEvent>,
      string
    >;
    const win = scoreEvent({ success: true, reaction_time: 0 }) as Exclude<
      ReturnType<typeof scoreEvent>,
      string
    >;
    let state = applyScores(emptyState(), fail, 0);
    for (let i = 0; i < WINDOW; i++) state = applyScores(state, win, i);
    // The one failure dropped out: 500 successes, every series' mean is 1 -> progress 100.
    expect(state.success_rate).toHaveLength(500);
    expect(state.success_rate.includes(0)).toBe(false);
    expect(state.progress).toBeCloseTo(100, 10);
  });
});
