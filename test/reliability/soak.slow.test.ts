// Soak: 10 million publishes in one process (AGENT_BUS_SOAK_PUBLISHES) with subscription churn over
// thousands of names, once-subscriptions, a group and a failing callback; the heap after gc() must
// not grow by more than SOAK_HEAP_BOUND, and no delivery or error report may go missing.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { record } from "./_record.js";

const PUBLISHES = Number(process.env.AGENT_BUS_SOAK_PUBLISHES ?? 10_000_000);
/** Largest heap growth accepted over the whole soak, after gc(). */
const SOAK_HEAP_BOUND = 2 * 1024 * 1024;
const fixture = fileURLToPath(new URL("./fixtures/soak.ts", import.meta.url));

interface SoakResult {
  total: number;
  published: number;
  before: number;
  after: number;
  durationMs: number;
  delivered: number;
  failed: number;
  grouped: number;
  churned: number;
  expectedFailed: number;
  listeners: number;
}

describe("in-process soak", () => {
  it(`${PUBLISHES} publishes with churn and failing callbacks: heap bounded, nothing missing`, (context) => {
    const output = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", fixture, String(PUBLISHES)],
      {
        encoding: "utf8",
        maxBuffer: 1024 * 1024,
      },
    );
    const result = JSON.parse(output.trim()) as SoakResult;
    const growth = result.after - result.before;
    const warm = result.grouped - result.total;
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
    record(context, {
      injected: `${result.churned} churn rounds (subscribe/unsubscribe over 5000 names, once), 1 in 64 callbacks throwing`,
      sent: result.total,
      // Every publish reaches the two catch-all subscriptions and exactly one group member.
      lost: result.total + warm - result.grouped,
      duplicated: 0,
      reordered: 0,
      note: `heap ${mib(result.before)} → ${mib(result.after)} MiB (growth ${mib(growth)} MiB, bound ${mib(SOAK_HEAP_BOUND)}); ${Math.round(result.total / (result.durationMs / 1000)).toLocaleString("en")} publishes/s; ${result.failed} errors reported of ${result.expectedFailed} thrown`,
    });
    expect(growth).toBeLessThan(SOAK_HEAP_BOUND);
    expect(result.failed).toBe(result.expectedFailed);
    expect(result.grouped).toBe(result.total + warm);
    expect(result.delivered).toBeGreaterThanOrEqual(2 * (result.total + warm));
    expect(result.listeners).toBe(6);
  }, 600_000);
});
