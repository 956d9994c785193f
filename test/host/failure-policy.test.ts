import { describe, expect, it, vi } from "vitest";
import { HOST_EVENTS } from "../../src/host/index.js";
import { SLOW_SETUP_MS } from "../../src/host/load.js";
import { EventBus } from "../../src/index.js";
import { captureConsole, extensionsDir, startHost, tempDir } from "./helpers.js";

const ok = (name: string) => `export function setup(ctx) { ctx.log.info("${name} up"); }`;

describe("failure policy", () => {
  it("warns about an unknown name, naming it and the folders searched, and loads the rest", async () => {
    const log = captureConsole();
    const dir = extensionsDir({ good: ok("good") });
    const host = await startHost({
      extensions: ["nope_missing", "good"],
      extensionsDir: dir,
      console: log.sink,
    });
    expect(host.extensions.loaded.map((e) => e.name)).toEqual(["good"]);
    expect(host.extensions.failed).toMatchObject([{ name: "nope_missing", kind: "not-found" }]);
    const warning = log.lines.find((line) => line.startsWith("warn [host]"));
    expect(warning).toContain('unknown extension "nope_missing"');
    expect(warning).toContain(dir);
    expect(warning).toMatch(/extensions/u);
  });

  it("logs an import that throws with its stack, skips it, and loads the others", async () => {
    const log = captureConsole();
    const dir = extensionsDir({
      first: ok("first"),
      broken: `function explode() { throw new Error("top-level boom"); }\nexplode();\nexport function setup() {}`,
      last: ok("last"),
    });
    const host = await startHost({
      extensions: ["first", "broken", "last"],
      extensionsDir: dir,
      console: log.sink,
    });
    expect(host.extensions.loaded.map((e) => e.name)).toEqual(["first", "last"]);
    expect(host.extensions.failed).toMatchObject([{ name: "broken", kind: "import" }]);
    const error = log.lines.find((line) => line.startsWith("error [host]")) ?? "";
    expect(error).toContain('extension "broken" failed in import: top-level boom');
    expect(error).toMatch(/at explode \(.*broken/u);
  });

  it("logs a setup that throws with its stack and undoes what it registered through ctx", async () => {
    const log = captureConsole();
    const dir = extensionsDir({
      flaky: `export function setup(ctx) {
        ctx.bus.subscribe("ping", () => {}, { signal: ctx.signal });
        ctx.http.route("GET", "/flaky", () => "x");
        throw new TypeError("setup boom");
      }`,
      fine: ok("fine"),
    });
    const bus = new EventBus();
    const host = await startHost({
      bus,
      extensions: ["flaky", "fine"],
      extensionsDir: dir,
      console: log.sink,
    });
    expect(host.extensions.loaded.map((e) => e.name)).toEqual(["fine"]);
    expect(host.extensions.failed).toMatchObject([{ name: "flaky", kind: "setup" }]);
    expect(log.text()).toContain('extension "flaky" failed in setup: setup boom');
    expect(log.text()).toMatch(/TypeError: setup boom\n\s+at .*flaky\/script\.mjs:\d+/u);
    expect(bus.listenerCount("ping")).toBe(0);
    expect(host.http.routes().map((r) => r.path)).toEqual(["/"]);
  });

  it("names the npm package to install when a dependency is missing", async () => {
    const log = captureConsole();
    const dir = extensionsDir({
      needy: `import { thing } from "@no-such-scope/not-installed-pkg/sub";\nexport function setup() { thing(); }`,
    });
    const host = await startHost({ extensions: ["needy"], extensionsDir: dir, console: log.sink });
    expect(host.extensions.failed).toMatchObject([{ name: "needy", kind: "missing-dependency" }]);
    expect(log.text()).toContain(
      'extension "needy" needs the npm package "@no-such-scope/not-installed-pkg": run `npm install @no-such-scope/not-installed-pkg`',
    );
  });

  it("publishes one failed event per extension that did not load", async () => {
    const bus = new EventBus();
    const seen: unknown[] = [];
    bus.subscribe(HOST_EVENTS.failed, (data) => seen.push(data));
    const dir = extensionsDir({ bad: "export function setup() { throw new Error('no'); }" });
    await startHost({
      bus,
      extensions: ["bad", "ghost"],
      extensionsDir: dir,
      console: captureConsole().sink,
    });
    expect(seen).toMatchObject([
      { name: "bad", kind: "setup" },
      { name: "ghost", kind: "not-found" },
    ]);
  });

  it("loads a script without setup() but warns, naming a default export it will not read", async () => {
    const log = captureConsole();
    const dir = extensionsDir({
      paramsonly: "export const params = { display_name: 'Params only' };",
      defaulted: "export default function setup(ctx) { ctx.log.info('never'); }",
      good: ok("good"),
    });
    const host = await startHost({
      extensions: ["paramsonly", "defaulted", "good"],
      extensionsDir: dir,
      console: log.sink,
    });
    expect(host.extensions.loaded.map((e) => e.name)).toEqual(["paramsonly", "defaulted", "good"]);
    expect(log.text()).toMatch(
      /warn \[paramsonly\] .*paramsonly.script\.\w+ exports no setup\(\): nothing of it runs$/mu,
    );
    expect(log.text()).toMatch(
      /warn \[defaulted\] .*exports no setup\(\): nothing of it runs \(a default export is not read\)/u,
    );
    expect(log.text()).not.toContain("never");
    expect(log.text()).not.toMatch(/warn \[good\]/u);
  });

  it("points out a setup still running after 10 s, naming the slip that most often causes it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const log = captureConsole();
      const bus = new EventBus();
      const dir = extensionsDir({
        waits: "export async function setup(ctx) { ctx.log.info('waiting'); await ctx.bus.once('go'); }",
      });
      const starting = startHost({ bus, extensions: ["waits"], extensionsDir: dir, console: log.sink });
      await vi.waitFor(() => expect(log.text()).toContain("waiting"), { timeout: 10_000 });
      await vi.advanceTimersByTimeAsync(SLOW_SETUP_MS - 100);
      expect(log.text()).not.toContain("still running");
      await vi.advanceTimersByTimeAsync(100);
      expect(log.text()).toMatch(
        /warn \[waits\] setup\(\) still running after 10 s; .*a setup that awaits host\.ready waits forever/u,
      );
      bus.publish("go");
      expect((await starting).extensions.loaded.map((e) => e.name)).toEqual(["waits"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses a script whose exports have the wrong shape", async () => {
    const log = captureConsole();
    const dir = extensionsDir({ odd: "export const setup = 42;" });
    const host = await startHost({
      extensions: ["odd"],
      extensionsDir: dir,
      dataDir: tempDir(),
      console: log.sink,
    });
    expect(host.extensions.failed).toMatchObject([{ name: "odd", kind: "import" }]);
    expect(log.text()).toContain('"setup" must be a function');
  });
});
