import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, FIXTURES, spawnCli } from "./helpers.js";

const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-fail-"));

beforeAll(ensureBuilt, 60_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("agent-bus run with failing extensions", () => {
  it("reports each failure in its own way and runs the others", async () => {
    const names = ["needs_package", "first", "no_such_extension", "broken", "second"];
    const run = spawnCli([
      "run",
      "--extensions",
      ...names,
      "--extensions-dir",
      FIXTURES,
      "--data-dir",
      dataDir,
      "--port",
      "0",
    ]);
    await expect.poll(run.output, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
    const output = run.output();
    expect(output).toContain(
      'extension "needs_package" needs the npm package "not-installed-pad": run `npm install not-installed-pad`',
    );
    expect(output).toContain(
      `unknown extension "no_such_extension": no no_such_extension/script.ts, script.js, script.mjs in ${FIXTURES}`,
    );
    expect(output).toMatch(
      /extension "broken" failed in import: broken at import; skipped\nError: broken at import\n\s+at explode/u,
    );
    expect(output).toContain("setup first hello\n");
    expect(output).toContain("setup second\n");
    expect(output).toContain(
      "not loaded: needs_package (missing-dependency), no_such_extension (not-found), broken (import)",
    );
    run.child.kill("SIGINT");
    expect((await run.finished).code).toBe(0);
  });
});
