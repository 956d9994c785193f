// Runs every example as a real program and checks it prints what its "// Output:" comment says.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const examples = join(import.meta.dirname, "..", "examples");

function expectedOutput(source: string): { stdout: string[]; stderr: string[] } {
  const block = source.slice(source.lastIndexOf("// Output"));
  const lines = block
    .split("\n")
    .slice(1)
    .filter((line) => line.startsWith("// "))
    .map((line) => line.slice(3));
  // Log lines of the bus itself go to stderr, everything else to stdout.
  return {
    stdout: lines.filter((line) => !line.startsWith("[EventBus]")),
    stderr: lines.filter((line) => line.startsWith("[EventBus]")),
  };
}

describe("the seed's examples, in TypeScript", () => {
  const files = readdirSync(examples).filter((name) => name.endsWith(".ts") && !name.startsWith("_"));

  it("are all here", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "basic-usage.ts",
        "task-monitor.ts",
        "logging-system.ts",
        "metrics-aggregation.ts",
      ]),
    );
  });

  it.each(files)("%s prints what its Output comment says", async (file) => {
    const source = readFileSync(join(examples, file), "utf8");
    const expected = expectedOutput(source);
    expect(expected.stdout.length + expected.stderr.length).toBeGreaterThan(0);
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(examples, file)], {
      cwd: join(examples, ".."),
    });
    expect(stdout.trimEnd().split("\n")).toEqual(expected.stdout);
    for (const line of expected.stderr) expect(stderr).toContain(line);
  });
});
