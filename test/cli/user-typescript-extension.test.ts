import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, spawnCli } from "./helpers.js";

// A fresh project: no package.json (so no "type": "module"), agent-bus installed in node_modules.
const project = mkdtempSync(join(tmpdir(), "agent-bus-project-"));
/** Writes a file of the project, its folders made as needed. */
const write = (path: string, source: string) => {
  mkdirSync(dirname(join(project, path)), { recursive: true });
  writeFileSync(join(project, path), source);
};

beforeAll(async () => {
  await ensureBuilt();
  mkdirSync(join(project, "node_modules"));
  symlinkSync(resolve(import.meta.dirname, "../.."), join(project, "node_modules/agent-bus"), "dir");
  write("extensions/hello/greeting.ts", 'export const greeting: string = "hi";\n');
  write(
    "extensions/hello/script.ts",
    `import { bus } from "agent-bus";
import type { ExtensionContext } from "agent-bus/host";
import { greeting } from "./greeting.js";
export const params = { display_name: "Hello" };
export function setup(ctx: ExtensionContext): void {
  console.log(\`hello says \${greeting}, same-bus=\${bus === ctx.bus}\`);
}
`,
  );
  // An ES module in a .js file, in a folder whose scope says no "type": Node reads it as ESM.
  write(
    "extensions/plainjs/script.js",
    `export const params = { display_name: "Plain JS" };
export function setup() {
  console.log("plainjs loaded");
}
`,
  );
  // CommonJS in a .js file without a "type": module.exports with a method, and exports.setup.
  write(
    "extensions/cjs_literal/script.js",
    `module.exports = {
  params: { display_name: "CJS literal" },
  setup(ctx) {
    console.log("cjs_literal loaded as " + ctx.params.display_name);
  },
};
`,
  );
  write("extensions/broken_js/script.js", 'export function setup() {\n  console.log("x"\n}\n');
  write(
    "extensions/cjs_function/script.js",
    `module.exports = function setup(ctx) {
  console.log("cjs_function loaded as " + ctx.name);
};
`,
  );
  write(
    "extensions/cjs_exports/script.js",
    `const os = require("node:os");
exports.setup = function setup() {
  console.log("cjs_exports loaded, eol " + JSON.stringify(os.EOL));
};
`,
  );
}, 60_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("a user's TypeScript extension", () => {
  it("loads without a build in a folder without package.json, sharing the host's bus", async () => {
    const run = spawnCli(["run", "--extensions", "hello", "--port", "0"], project);
    await expect.poll(run.output, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
    expect(run.stdout()).toContain("hello says hi, same-bus=true");
    run.child.kill("SIGINT");
    expect((await run.finished).code).toBe(0);
  });

  it.each([
    ["after", ["hello", "plainjs"]],
    ["before", ["plainjs", "hello"]],
  ])("loads an ES module script.js %s a TypeScript extension", async (_, names) => {
    const run = spawnCli(["run", "--extensions", ...names, "--port", "0"], project);
    await expect.poll(run.output, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
    expect(run.stdout()).toContain("plainjs loaded");
    expect(run.stdout()).toContain("hello says hi");
    expect(run.output()).not.toMatch(/failed|cannot load|ERR_/u);
    run.child.kill("SIGINT");
    expect((await run.finished).code).toBe(0);
  });

  it("names the script of a syntax error that Node reports without its place", async () => {
    const run = spawnCli(["run", "--extensions", "hello", "broken_js", "--port", "0"], project);
    await expect.poll(run.output, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
    expect(run.output()).toMatch(
      /extension "broken_js" failed in import: missing \) after argument list \(in .*broken_js.script\.js\); skipped/u,
    );
    run.child.kill("SIGINT");
    expect((await run.finished).code).toBe(0);
  });

  it.each([
    ["after", ["hello", "cjs_literal", "cjs_exports", "cjs_function"]],
    ["before", ["cjs_literal", "cjs_exports", "cjs_function", "hello"]],
  ])("loads CommonJS script.js files %s a TypeScript extension", async (_, names) => {
    const run = spawnCli(["run", "--extensions", ...names, "--port", "0"], project);
    await expect.poll(run.output, { timeout: 15_000 }).toMatch(/Ctrl\+C to stop/u);
    expect(run.stdout()).toContain("cjs_literal loaded as CJS literal");
    expect(run.stdout()).toContain("cjs_function loaded as cjs_function");
    expect(run.stdout()).toContain('cjs_exports loaded, eol "\\n"');
    expect(run.stdout()).toContain("hello says hi");
    expect(run.output()).not.toMatch(/failed|cannot load|exports no setup|ERR_/u);
    run.child.kill("SIGINT");
    expect((await run.finished).code).toBe(0);
  });
});
