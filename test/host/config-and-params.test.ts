import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createHost } from "../../src/host/index.js";
import { captureConsole, extensionsDir, startHost, tempDir } from "./helpers.js";

/** Publishes its resolved params on globalThis.__params[name]. */
const reporter = (name: string, params: string) => `
export const params = ${params};
export function setup(ctx) { (globalThis.__params ??= {})["${name}"] = ctx.params; }
`;

type Seen = { __params?: Record<string, Record<string, unknown>> };

const DIR = () =>
  extensionsDir({
    alpha: reporter("alpha", `{ display_name: "Alpha", speed: 1, mode: "slow", tags: null }`),
    beta: reporter("beta", `{ display_name: "Beta" }`),
    gamma: reporter("gamma", `{}`),
  });

describe("config file", () => {
  it("overrides declared params with <extension>-<param> keys from a YAML file", async () => {
    const config = join(tempDir(), "agent-bus.yaml");
    writeFileSync(config, "alpha-speed: 5\nalpha-mode: fast\nalpha-tags: [x, y]\nbeta-display_name: Bravo\n");
    const host = await startHost({
      extensions: ["alpha", "beta"],
      extensionsDir: DIR(),
      config,
      console: captureConsole().sink,
    });
    expect((globalThis as Seen).__params?.alpha).toEqual({
      display_name: "Alpha",
      speed: 5,
      mode: "fast",
      tags: ["x", "y"],
    });
    expect(host.extensions.loaded.map((e) => e.displayName)).toEqual(["Alpha", "Bravo"]);
  });

  it("appends default_extensions after the names given, without duplicates (JSON file)", async () => {
    const config = join(tempDir(), "agent-bus.json");
    writeFileSync(config, JSON.stringify({ default_extensions: ["gamma", "alpha", "beta"] }));
    const host = await startHost({
      extensions: ["beta", "alpha"],
      extensionsDir: DIR(),
      config,
      console: captureConsole().sink,
    });
    expect(host.extensions.loaded.map((e) => e.name)).toEqual(["beta", "alpha", "gamma"]);
  });

  it("ignores with a warning a key for an undeclared param or of the wrong type", async () => {
    const log = captureConsole();
    const config = { "alpha-colour": "red", "alpha-speed": "very", "alpha-mode": "medium" };
    await startHost({ extensions: ["alpha"], extensionsDir: DIR(), config, console: log.sink });
    expect((globalThis as Seen).__params?.alpha).toMatchObject({ speed: 1, mode: "medium" });
    expect(log.text()).toContain(
      'warn [alpha] config key "alpha-colour" ignored: alpha has no param "colour"',
    );
    expect(log.text()).toContain(
      'warn [alpha] config key "alpha-speed" ignored: expected a number, got "very"',
    );
  });

  it("warns of a key that names no extension of the run, as for a misspelt prefix", async () => {
    const log = captureConsole();
    const config = { bogus: 1, "alhpa-speed": 3, "alpha-speed": 2, default_extensions: ["beta"] };
    await startHost({ extensions: ["alpha"], extensionsDir: DIR(), config, console: log.sink });
    expect((globalThis as Seen).__params?.alpha).toMatchObject({ speed: 2 });
    expect(log.text()).toContain(
      'warn [host] config key "bogus" ignored: it names no extension of this run (keys are <extension>-<param>; extensions: alpha, beta)',
    );
    expect(log.text()).toContain('warn [host] config key "alhpa-speed" ignored');
    expect(log.text()).not.toContain('"alpha-speed" ignored');
    expect(log.text()).not.toContain('"default_extensions" ignored');
  });

  it("refuses an unreadable, malformed or misshapen config with a message naming the file", async () => {
    const dir = tempDir();
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "default_extensions: [unclosed\n");
    const listy = join(dir, "list.yaml");
    writeFileSync(listy, "- a\n- b\n");
    await expect(createHost({ config: join(dir, "missing.yaml") })).rejects.toThrow(
      /Cannot read config file .*missing\.yaml/u,
    );
    await expect(createHost({ config: broken })).rejects.toThrow(
      /broken\.yaml is not valid YAML or JSON: [^\n]+$/u,
    );
    await expect(createHost({ config: listy })).rejects.toThrow(/list\.yaml must be a mapping/u);
    const tagged = join(dir, "tagged.yaml");
    writeFileSync(tagged, 'demo-interval_ms: !!js/function "function () {}"\n');
    await expect(createHost({ config: tagged })).rejects.toThrow(
      /tagged\.yaml is not valid YAML or JSON: .*tag/iu,
    );
    // @ts-expect-error: a plain string where the list belongs, as a hand-written config might have it
    await expect(createHost({ config: { default_extensions: "demo" } })).rejects.toThrow(
      /default_extensions must be a list/u,
    );
  });
});
