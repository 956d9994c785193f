import { describe, expect, it } from "vitest";
import { captureConsole, extensionsDir, startHost } from "./helpers.js";

/** An extension whose setup waits a little, then records its name on globalThis. */
const recorder = (name: string, delay: number) => `
export const params = { display_name: "${name.toUpperCase()}" };
export async function setup(ctx) {
  globalThis.__order ??= [];
  globalThis.__order.push("start ${name}");
  await new Promise((r) => setTimeout(r, ${delay}));
  globalThis.__order.push("end ${name}");
}
`;

describe("load order", () => {
  it("runs each setup to its end before the next starts, in the order given", async () => {
    (globalThis as { __order?: string[] }).__order = [];
    const dir = extensionsDir({ b: recorder("b", 30), a: recorder("a", 1), c: recorder("c", 10) });
    const host = await startHost({
      extensions: ["b", "a", "c"],
      extensionsDir: dir,
      console: captureConsole().sink,
    });
    expect((globalThis as { __order?: string[] }).__order).toEqual([
      "start b",
      "end b",
      "start a",
      "end a",
      "start c",
      "end c",
    ]);
    expect(host.extensions.loaded.map((e) => [e.name, e.displayName])).toEqual([
      ["b", "B"],
      ["a", "A"],
      ["c", "C"],
    ]);
  });
});
