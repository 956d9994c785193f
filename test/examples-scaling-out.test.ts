// README's "two processes on one bus", run as two real processes over the real NATS server.
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { uniqueNamespace } from "./conformance/helpers.js";
import { skipWithout } from "./transports/_broker.js";

const run = promisify(execFile);
const folder = join(import.meta.dirname, "..", "examples", "scaling-out");
const skip = await skipWithout("nats-server", 4222);

describe.skipIf(skip)("the scaling-out example", () => {
  it("joins two processes: an event, a group delivery and a request cross between them", async () => {
    const env = { ...process.env, AGENT_BUS_NAMESPACE: uniqueNamespace("example") };
    const subscriber = spawn(process.execPath, ["--import", "tsx", join(folder, "subscriber.ts")], { env });
    let output = "";
    subscriber.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise((resolve) => subscriber.on("exit", resolve));
    try {
      await expect.poll(() => output, { timeout: 15_000 }).toContain("subscriber ready");
      const { stdout } = await run(process.execPath, ["--import", "tsx", join(folder, "publisher.ts")], {
        env,
      });
      expect(stdout.trim()).toBe("21 doubled is 42");
      await expect.poll(() => output).toContain('task.completed {"task_id":1,"success":true} from publisher');
      await expect.poll(() => output).toContain('worker got {"task_id":1,"success":true}');
    } finally {
      subscriber.kill("SIGTERM");
      await exited;
    }
  }, 30_000);
});
