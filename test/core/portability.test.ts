// The core must run in browsers, Deno and Bun: no Node-only API, no dependency.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "..", "..", "src");

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
}

/** Every source file the barrel reaches, following relative imports. */
function coreGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const code = stripComments(readFileSync(file, "utf8"));
    const specifiers = [...code.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1] as string);
    graph.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier.replace(/\.js$/, ".ts")));
    }
  };
  visit(join(src, "index.ts"));
  return graph;
}

describe("the core (everything the agent-bus barrel reaches)", () => {
  const graph = coreGraph();
  const files = [...graph.keys()].map((file) => relative(src, file));

  it("includes the bus and stays within src/", () => {
    expect(files).toContain("bus.ts");
    for (const file of files) expect(file).not.toMatch(/^\.\./);
  });

  it.each(files)("%s imports no package and no node: module", (file) => {
    for (const specifier of graph.get(join(src, file)) ?? []) {
      expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
    }
  });

  it.each(files)("%s uses no Node-only global", (file) => {
    const code = stripComments(readFileSync(join(src, file), "utf8"));
    expect(code).not.toMatch(/\b(process|Buffer|require|__dirname|setImmediate)\b/);
  });
});
