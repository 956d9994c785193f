import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, FIXTURES, spawnCli } from "./helpers.js";

const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-cli-"));

beforeAll(ensureBuilt, 60_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("agent-bus run, sent SIGTERM", () => {
  it("runs the teardowns in reverse order, closes the bus and exits 0", async () => {
    const run = spawnCli([
      "run",
      "--extensions",
      "first,second",
      "third",
      "agent_learning",
      "--extensions-dir",
      FIXTURES,
      "--data-dir",
      dataDir,
      "--port",
      "0",
    ]);
    await expect.poll(run.stdout, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
    const stdout = run.stdout();
    // TypeScript user extensions load without a build; `import { bus } from "agent-bus"` is ctx.bus.
    expect(stdout).toContain("setup first hello\nsetup second\nsetup third same-bus=true\n");
    const url = /GET (http:\/\/127\.0\.0\.1:\d+)\/learning\/progress/u.exec(stdout)?.[1];
    expect(url).toBeDefined();
    const progress = await (await fetch(`${url}/learning/progress`)).json();
    expect(progress).toMatchObject({ success_rate: [], progress: 0, version: 1 });

    run.child.kill("SIGTERM");
    const { code, signal, stdout: all } = await run.finished;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const after = all.slice(all.indexOf("Ctrl+C to stop"));
    const order = after.split("\n").filter((line) => /^(shutdown event|teardown)/u.test(line));
    expect(order).toEqual(["shutdown event SIGTERM", "teardown third", "teardown second", "teardown first"]);
    expect(after).toContain("[agent_learning] progress 0.0% saved");
    expect(after).toMatch(/teardown first\n(.*\n)*bus closed at exit\n$/u);
  });

  it("honours a SIGTERM that arrives while the extensions are still loading", async () => {
    const args = ["run", "--extensions", "first", "slow", "second", "--extensions-dir", FIXTURES];
    const run = spawnCli([...args, "--data-dir", dataDir, "--port", "0"]);
    await expect.poll(run.stdout, { timeout: 15_000 }).toContain("setup slow started");
    run.child.kill("SIGTERM");
    const { code, stdout } = await run.finished;
    expect(code).toBe(0);
    // Loading finishes (setups are not interrupted), then the shutdown runs as usual.
    const lines = stdout.split("\n").filter((line) => /^(setup|shutdown event|teardown)/u.test(line));
    expect(lines).toEqual([
      "setup first hello",
      "setup slow started",
      "setup slow finished",
      "setup second",
      "shutdown event SIGTERM",
      "teardown second",
      "teardown slow",
      "teardown first",
    ]);
    expect(stdout).not.toContain("Ctrl+C to stop");
  });

  it("exits at a second signal while a setup never finishes", async () => {
    const args = ["run", "--extensions", "first", "stuck", "--extensions-dir", FIXTURES];
    const run = spawnCli([...args, "--data-dir", dataDir, "--port", "0"]);
    await expect.poll(run.stdout, { timeout: 15_000 }).toContain("setup stuck started");
    run.child.kill("SIGINT");
    await expect.poll(run.output, { timeout: 5000 }).toContain("SIGINT while the extensions load");
    run.child.kill("SIGINT");
    const { code, stderr } = await run.finished;
    expect(code).toBe(1);
    expect(stderr).toContain("[host] SIGINT again while the extensions load: exiting now");
  });
});
