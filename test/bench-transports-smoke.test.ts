// The transport benchmark in its smoke mode: every case (NATS, Redis, worker threads; bus and raw)
// with a few hundred events, on brokers the runner starts itself. The figures come from
// `npm run bench:transports`.
import { execFile } from "node:child_process";
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
  it("runs every case in smoke mode", async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, "bench", "transports", "run.mjs"), "--smoke"],
      {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    expect(`${stdout}${stderr}`).toMatch(/nats/i);
  }, 120_000);
});
