import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { captureConsole, startLearning } from "./helpers.js";

const BAD_INPUTS: [string, unknown, RegExp][] = [
  ["no data", undefined, /no data/u],
  ["null data", null, /no data/u],
  ["a string instead of an object", "done", /data must be an object/u],
  ["a number instead of an object", 42, /data must be an object/u],
  ["an array instead of an object", [true, 3], /data must be an object/u],
  [
    "a non-numeric reaction time",
    { success: true, reaction_time: "fast" },
    /reaction_time must be a finite number/u,
  ],
  [
    "a numeric string as reaction time",
    { success: true, reaction_time: "3" },
    /reaction_time must be a finite number/u,
  ],
  [
    "NaN as reaction time",
    { success: true, reaction_time: Number.NaN },
    /reaction_time must be a finite number/u,
  ],
  [
    "a non-numeric weight",
    { success: true, weights: { memory: "high" } },
    /weights\.memory must be a number from -1000000 to 1000000, got "high"/u,
  ],
  ["weights that are not an object", { success: true, weights: 2 }, /weights must be an object/u],
  [
    "a null weight",
    { success: true, weights: { logic: null } },
    /weights\.logic must be a number from -1000000 to 1000000, got null/u,
  ],
  [
    "an infinite reaction time, named as such",
    { success: true, reaction_time: Number.POSITIVE_INFINITY },
    /reaction_time must be a finite number of seconds, got Infinity/u,
  ],
  [
    "weights so large that their sums would overflow the progress",
    { success: true, weights: { logic: 1e308, memory: -1.5e308 } },
    /weights\.logic must be a number from -1000000 to 1000000, got 1e\+308/u,
  ],
  [
    "a string where a boolean belongs",
    { success: "true", reaction_time: 1 },
    /success must be true or false/u,
  ],
];

describe("agent_learning bad input", () => {
  it.each(BAD_INPUTS)("rejects %s whole, with one log line", async (_what, data, reason) => {
    const log = captureConsole();
    const { host, progress, file } = await startLearning(undefined, log.sink);
    host.bus.publish("task_completed", { success: true, reaction_time: 6 });
    const before = await progress();
    await expect.poll(() => readFileSync(file, "utf8")).toContain('"success_rate":[1]');
    const linesBefore = log.lines.length;

    host.bus.publish("task_completed", data);

    const after = await progress();
    expect(after).toEqual(before);
    const newLines = log.lines.slice(linesBefore);
    expect(newLines).toHaveLength(1);
    expect(newLines[0]).toMatch(/^warn \[agent_learning\] ignored a task_completed event: /u);
    expect(newLines[0]).toMatch(reason);
    await host.close();
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved.success_rate).toEqual([1]);
    expect(saved.logic).toEqual([1]);
  });
});
