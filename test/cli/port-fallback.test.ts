import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli, spawnCli } from "./helpers.js";

const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-port-"));
let blocker: Server;
let port: number;

beforeAll(async () => {
  await ensureBuilt();
  blocker = createServer();
  await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
  port = (blocker.address() as { port: number }).port;
}, 60_000);
afterAll(() => {
  blocker.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("agent-bus run on a taken port", () => {
  it("ends with a clear message and exit code 1 when the port given is taken", async () => {
    const result = await runCli([
      "run",
      "--extensions",
      "agent_bus",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Port ${port} on 127.0.0.1 is already in use: pass another --port, or --port 0`,
    );
    expect(result.stdout).not.toContain("bus ready");
  });

  it("falls back to a free port, saying so, when the default port is taken", async () => {
    // Holding 4319 may fail if something else holds it already; either way it is taken.
    const holder = createServer();
    await new Promise<void>((done) => {
      holder.once("error", () => done());
      holder.listen(4319, "127.0.0.1", done);
    });
    try {
      const run = spawnCli(["run", "--extensions", "agent_bus", "--data-dir", dataDir]);
      await expect.poll(run.output, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
      expect(run.output()).toContain("port 4319 is taken; using a free port instead");
      expect(run.stdout()).toMatch(/http:\/\/127\.0\.0\.1:(?!4319\/)\d+\//u);
      run.child.kill("SIGINT");
      expect((await run.finished).code).toBe(0);
    } finally {
      holder.close();
    }
  });
});
