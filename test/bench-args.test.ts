// The bench scripts' options: --help lists them, a bad one is one line and exit 2.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = (path: string) => fileURLToPath(new URL(`../bench/${path}`, import.meta.url));
const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
    );
  });

describe("bench script options", () => {
  it.each(["run.mjs", "instructions.mjs", "profile.mjs", "transports/run.mjs", "transports/count.mjs"])(
    "%s: --help lists the options, an unknown one exits 2 in one line",
    async (name) => {
      const help = await run([script(name), "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^usage: node \S+ (\[--\w+( <value>)?\] ?)+/u);
      const bad = await run([script(name), "--no-such-option"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/Unknown option '--no-such-option'.*\nusage: /u);
      expect(bad.stderr).not.toMatch(/\n\s+at /u);
    },
  );
});
