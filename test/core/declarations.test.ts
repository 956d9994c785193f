// The core's published types must compile where the core runs: a browser project, without
// @types/node and without skipLibCheck, on a lib of ES2022 and the DOM.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const entry = resolve(import.meta.dirname, "../../dist/index.js");
const project = mkdtempSync(join(tmpdir(), "agent-bus-types-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("the core's declarations", () => {
  it("compile in a browser project: ES2022 and DOM, no @types/node, no skipLibCheck", async () => {
    writeFileSync(
      join(project, "consumer.ts"),
      `import { EventBus, bus } from ${JSON.stringify(entry)};
const typed = new EventBus<{ "a.b": { n: number } }>();
typed.publish("a.b", { n: 1 });
using off = bus.subscribe("x", () => undefined);
await using closing = typed;
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "Bundler",
          lib: ["ES2022", "DOM"],
          types: [],
          skipLibCheck: false,
        },
        files: ["consumer.ts"],
      }),
    );
    const result = await run(process.execPath, [tsc, "-p", project]).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe("");
  }, 60_000);
});
