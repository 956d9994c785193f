import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_EXTENSIONS_DIR, listExtensions } from "../../src/host/index.js";
import { captureConsole, extensionsDir, startHost, tempDir } from "./helpers.js";

describe("shadowing", () => {
  it("loads a user extension instead of the bundled one of the same name", async () => {
    const dir = extensionsDir({
      demo: `export const params = { display_name: "My Demo" };\nexport function setup() { globalThis.__shadow = "user demo"; }`,
    });
    const host = await startHost({
      extensions: ["demo"],
      extensionsDir: dir,
      console: captureConsole().sink,
    });
    expect(host.extensions.loaded).toMatchObject([
      { name: "demo", source: "user", displayName: "My Demo", script: join(dir, "demo", "script.mjs") },
    ]);
    expect((globalThis as { __shadow?: string }).__shadow).toBe("user demo");
  });

  it("falls back to the bundled extension when the user folder lacks it", async () => {
    const host = await startHost({
      extensions: ["metrics"],
      extensionsDir: tempDir(),
      console: captureConsole().sink,
    });
    expect(host.extensions.loaded).toMatchObject([
      { name: "metrics", source: "bundled", script: join(BUNDLED_EXTENSIONS_DIR, "metrics", "script.ts") },
    ]);
  });

  it("prefers script.js to script.mjs in one folder", async () => {
    const dir = extensionsDir({
      both: "export const params = { display_name: 'from mjs' };",
      "both/script.js": "export const params = { display_name: 'from js' };",
    });
    const host = await startHost({
      extensions: ["both"],
      extensionsDir: dir,
      console: captureConsole().sink,
    });
    expect(host.extensions.loaded[0]?.displayName).toBe("from js");
  });

  it("lists user and bundled extensions together, the user one replacing its bundled namesake", () => {
    const dir = extensionsDir({ demo: "export function setup() {}", mine: "export function setup() {}" });
    const listed = listExtensions(dir).map(({ name, source }) => `${name}:${source}`);
    expect(listed).toEqual([
      "agent_bus:bundled",
      "agent_learning:bundled",
      "demo:user",
      "event_logger:bundled",
      "metrics:bundled",
      "mine:user",
      "task_monitor:bundled",
    ]);
  });
});
