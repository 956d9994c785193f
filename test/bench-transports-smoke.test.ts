// The transport benchmark in its smoke mode: every case (NATS, Redis, worker threads; bus and raw)
// with a few hundred events, on brokers the runner starts itself. The figures come from
// `npm run bench:transports`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

function installed(command: string): Promise<boolean> {
  return run("sh", ["-c", `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}

const brokers = (await installed("nats-server")) && (await installed("redis-server"));
if (!brokers && process.env.AGENT_BUS_REQUIRE_BROKERS === "1") {
  throw new Error("nats-server and redis-server are required in CI");
}
if (!brokers)
  console.warn(
    "[agent-bus tests] skipping the transport benchmark smoke run: no nats-server or redis-server",
  );

describe.skipIf(!brokers)("the transport benchmark", () => {
  it("runs every case in smoke mode, the fixed-header baseline included", async () => {
    const out = mkdtempSync(join(tmpdir(), "agent-bus-transports-smoke-"));
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [join(root, "bench", "transports", "run.mjs"), "--smoke", "--out", out],
        {
          cwd: root,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      expect(`${stdout}${stderr}`).toMatch(/nats/i);
      const report = readFileSync(join(out, "transports.md"), "utf8");
      expect(report).not.toMatch(/Failed case runs/u);
      // Every NATS client has its row, each size, with a rate and no losses.
      for (const client of ["bus", "raw-headers", "raw-fixed", "raw"]) {
        for (const size of ["128 B", "1 KiB"]) {
          expect(report).toMatch(
            new RegExp(`^\\| ${size} \\| ${client} \\| [\\d.]+k? \\|.* \\| 0 \\|`, "mu"),
          );
        }
      }
      // The targets table ends each NATS row with raw-fixed against raw, paired by round.
      expect(report).toMatch(/^\| NATS \| 128 B \|.*\| [\d.]+× \|$/mu);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
