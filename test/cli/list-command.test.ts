import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "agent-bus-list-"));

beforeAll(async () => {
  await ensureBuilt();
  mkdirSync(join(dir, "extensions/demo"), { recursive: true });
  writeFileSync(
    join(dir, "extensions/demo/script.mjs"),
    'export const params = { display_name: "My Own Demo" };',
  );
  mkdirSync(join(dir, "extensions/typed"), { recursive: true });
  writeFileSync(
    join(dir, "extensions/typed/script.ts"),
    'export const params: { display_name: string } = { display_name: "Typed One" };',
  );
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agent-bus list", () => {
  it("lists bundled and user extensions with display names, marking shadowed ones", async () => {
    const result = await runCli(["list"], dir);
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trim()
      .split("\n")
      .map((line) => line.split(/\s{2,}/u));
    expect(rows).toEqual([
      ["NAME", "DISPLAY NAME", "SOURCE"],
      ["agent_bus", "Agent Bus", "bundled"],
      ["agent_learning", "Agent Learning", "bundled"],
      ["demo", "My Own Demo", "user (shadows bundled)"],
      ["event_logger", "Event Logger", "bundled"],
      ["metrics", "Metrics", "bundled"],
      ["task_monitor", "Task Monitor", "bundled"],
      ["typed", "Typed One", "user"],
    ]);
  });

  it("reads the user folder given by --extensions-dir", async () => {
    const result = await runCli(["list", "--extensions-dir", join(dir, "extensions")], tmpdir());
    expect(result.stdout).toMatch(/typed\s+Typed One\s+user/u);
  });

  it("says so when the folder given by --extensions-dir is not there", async () => {
    const missing = join(dir, "no-such-folder");
    const result = await runCli(["list", "--extensions-dir", missing], tmpdir());
    expect(result.stderr).toContain(`agent-bus: no folder ${missing}: only bundled extensions listed`);
    expect(result.stdout).toMatch(/agent_learning/u);
  });
});
