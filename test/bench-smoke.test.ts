// CI runs the benchmarks in their smoke mode only: every case of every library, a few ms each,
// to prove the harness and the adapters work. The figures come from `npm run bench`.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

describe("the in-process benchmark", () => {
  it("runs every case in smoke mode", async () => {
    const { stdout, stderr } = await run(process.execPath, [join(root, "bench", "run.mjs"), "--smoke"], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(`${stdout}${stderr}`).not.toMatch(/\bFAIL|failed case/i);
  }, 120_000);
});
