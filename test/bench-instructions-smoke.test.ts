// CI runs the instruction counts in smoke mode: one scenario, the plain loop and agent-bus, few
// operations (code barely warm, so the figures mean nothing), to prove that callgrind runs the
// cases and the report gets numbers. The figures come from `npm run bench:instructions`.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { onPath } from "./transports/_broker.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const script = join(root, "bench", "instructions.mjs");

function hasValgrind(): boolean {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const required = process.env.CI === "true";
const available = hasValgrind();
if (!available && !required) console.warn("bench-instructions smoke skipped: valgrind is not installed");

describe.skipIf(!available && !required)("the instruction-count benchmark", () => {
  it("counts instructions per operation for each case in smoke mode", async () => {
    const out = mkdtempSync(join(tmpdir(), "agent-bus-instructions-"));
    await run(process.execPath, [script, "--smoke", "--out", out], { cwd: root });
    const report = JSON.parse(readFileSync(join(out, "instructions.json"), "utf8"));
    expect(report.results.map((r: { lib: string }) => r.lib)).toEqual(["plain-loop", "agent-bus"]);
    for (const result of report.results) {
      expect(result.error).toBeUndefined();
      expect(result.large).toBeGreaterThan(result.small);
      expect(result.perOp).toBeGreaterThan(0);
    }
    const markdown = readFileSync(join(out, "instructions.md"), "utf8");
    expect(markdown).toMatch(/\| publish, 1 listener \| \d+ \| \d+ \|/);
  }, 180_000);

  it("splits a case's instructions by function with bench/profile.mjs", async () => {
    const profile = join(root, "bench", "profile.mjs");
    const { stdout } = await run(
      process.execPath,
      [profile, "agent-bus", "publish-1", "--ops", "2000,6000", "--code", "runBatch", "--min", "0.01"],
      { cwd: root },
    );
    const total = /^agent-bus publish-1: (\d+) instructions per operation/mu.exec(stdout);
    expect(total).not.toBeNull();
    const rows = [...stdout.matchAll(/^ +(-?[\d.]+) {2}(\S.*)$/gmu)].map(([, cost, name]) => ({
      cost: Number(cost),
      name,
    }));
    expect(rows.length).toBeGreaterThan(0);
    // The rows add up to about the total (the rest are rows under --min or beyond --top).
    const sum = rows.reduce((acc, row) => acc + row.cost, 0);
    expect(Math.abs(sum - Number(total?.[1]))).toBeLessThan(Number(total?.[1]) * 0.5 + 5);
    expect(stdout).toContain("optimized code of runBatch");
    const failure = await run(process.execPath, [profile, "no-such-lib", "publish-1"], { cwd: root }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown library "no-such-lib"'),
    });
  }, 180_000);

  const brokers =
    onPath("nats-server", "the publisher count on private brokers") &&
    onPath("redis-server", "the publisher count on private brokers");
  it.skipIf(!brokers)(
    "counts a broker client's instructions an event, publishing and subscribing, with bench/transports/count.mjs",
    async () => {
      const count = join(root, "bench", "transports", "count.mjs");
      const { stdout } = await run(
        process.execPath,
        [count, "--clients", "bus", "--events", "200,1200", "--top", "3"],
        { cwd: root },
      );
      const total = /^nats bus 128 B, publisher: (\d+) instructions an event \(200 and 1200 events\)$/mu.exec(
        stdout,
      );
      expect(total).not.toBeNull();
      // Far more than a bare function call, far less than a millisecond of work.
      expect(Number(total?.[1])).toBeGreaterThan(1000);
      expect(Number(total?.[1])).toBeLessThan(1_000_000);
      expect([...stdout.matchAll(/^ +-?[\d.]+ {2}\S/gmu)]).toHaveLength(3);
      // The subscribing side, from what the server delivered, replayed.
      const sub = await run(
        process.execPath,
        [count, "--side", "sub", "--clients", "bus", "--events", "100,600", "--top", "2"],
        { cwd: root },
      );
      const subTotal =
        /^nats bus 128 B, subscriber: (-?\d+) instructions an event \(100 and 600 events\)$/mu.exec(
          sub.stdout,
        );
      expect(subTotal).not.toBeNull();
      expect(Number(subTotal?.[1])).toBeGreaterThan(1000);
      expect(Number(subTotal?.[1])).toBeLessThan(1_000_000);
      const failure = await run(process.execPath, [count, "--broker", "kafka"], { cwd: root }).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--broker is nats or redis, got "kafka"'),
      });
      const redisSub = await run(process.execPath, [count, "--broker", "redis", "--side", "sub"], {
        cwd: root,
      }).catch((error: { code: number; stderr: string }) => error);
      expect(redisSub).toMatchObject({
        code: 2,
        stderr: expect.stringContaining("--side sub counts NATS subscribers only"),
      });
    },
    240_000,
  );

  it("refuses operation counts that leave nothing to measure, naming the option", async () => {
    const failure = await run(process.execPath, [script, "--ops", "5000,1000"], { cwd: root }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining("--ops must be two integers") });
  });
});
