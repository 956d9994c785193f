import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeAtomically } from "../../extensions/agent_learning/store.js";
import { captureConsole, startLearning, tempDir } from "./helpers.js";

const KEYS = [
  "creativity",
  "last_update_ts",
  "logic",
  "memory",
  "progress",
  "reaction_time",
  "success_rate",
  "version",
].sort();

describe("agent_learning persistence", () => {
  it("continues after a restart exactly where it stopped", async () => {
    const first = await startLearning();
    first.host.bus.publish("task_completed", {
      success: true,
      reaction_time: 12,
      weights: { logic: 0.8, memory: 1.2 },
    });
    first.host.bus.publish("task_completed", {
      success: false,
      reaction_time: 90,
      weights: { logic: 0.8, memory: 1.2 },
    });
    await first.host.close();

    const saved = JSON.parse(readFileSync(first.file, "utf8"));
    expect(Object.keys(saved).sort()).toEqual(KEYS);
    expect(saved.success_rate).toEqual([1, 0]);
    expect(saved.version).toBe(1);
    // Same worked values as in the formulas test: 96 after the first event, 63 after the second.
    expect(saved.progress).toBeCloseTo(63, 10);

    const second = await startLearning(first.dataDir);
    expect((await second.progress()).success_rate).toEqual([1, 0]);
    second.host.bus.publish("task_completed", { success: true, reaction_time: -5 });
    const state = await second.progress();
    // Third worked value: 113/150 * 100, only reachable if the two earlier values were loaded.
    expect(state.progress).toBeCloseTo((113 / 150) * 100, 10);
    expect(state.memory).toHaveLength(3);
  });

  it("replaces the file by renaming a complete temp file over it", async () => {
    const { host, file, dataDir } = await startLearning();
    host.bus.publish("task_completed", { success: true });
    await expect.poll(() => readdirSync(join(dataDir, "agent_learning"))).toContain("progress.json");
    const before = statSync(file).ino;
    await writeAtomically(file, '{"replaced":true}\n');
    // A write in place keeps the inode; a rename brings the temp file's own.
    expect(statSync(file).ino).not.toBe(before);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ replaced: true });
    expect(readdirSync(join(dataDir, "agent_learning")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("leaves a valid file after each of many quick events", async () => {
    const { host, file } = await startLearning();
    for (let i = 0; i < 50; i++)
      host.bus.publish("task_completed", { success: i % 2 === 0, reaction_time: i });
    await host.close();
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved.success_rate).toHaveLength(50);
  });

  it("sets an unreadable file aside, says so, and starts fresh", async () => {
    const dataDir = tempDir();
    const folder = join(dataDir, "agent_learning");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "progress.json"), "{ half a file");
    const log = captureConsole();
    const { progress } = await startLearning(dataDir, log.sink);
    expect((await progress()).success_rate).toEqual([]);
    expect(log.text()).toMatch(/progress\.json is unusable .* moved to .*\.bad-\d+, starting fresh/u);
    expect(readdirSync(folder).some((name) => name.startsWith("progress.json.bad-"))).toBe(true);
  });
});
