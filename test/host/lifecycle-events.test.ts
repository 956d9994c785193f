import { describe, expect, it } from "vitest";
import { HOST_EVENTS } from "../../src/host/index.js";
import { EventBus } from "../../src/index.js";
import { captureConsole, extensionsDir, startHost } from "./helpers.js";

/** Records setup, the events it sees, and its teardowns on globalThis.__trail. */
const tracer = (name: string) => `
const trail = (globalThis.__trail ??= []);
export function setup(ctx) {
  trail.push("setup ${name}");
  ctx.bus.subscribe("host.>", (data, envelope) => trail.push("${name} saw " + envelope.type + (data.name ? " " + data.name : "")));
  return () => trail.push("returned teardown ${name}");
}
export function teardown() { trail.push("exported teardown ${name}"); }
`;

type Trail = { __trail?: string[] };

describe("lifecycle", () => {
  it("publishes loaded per extension, then ready once all loaded, then shutdown before teardowns", async () => {
    (globalThis as Trail).__trail = [];
    const dir = extensionsDir({ one: tracer("one"), two: tracer("two") });
    const bus = new EventBus();
    const ready: unknown[] = [];
    bus.subscribe(HOST_EVENTS.ready, (data) => ready.push(data));
    const host = await startHost({
      bus,
      extensions: ["one", "two", "gone"],
      extensionsDir: dir,
      console: captureConsole().sink,
    });
    expect(ready).toEqual([{ loaded: ["one", "two"], failed: ["gone"], url: undefined }]);
    await host.close();
    expect((globalThis as Trail).__trail).toEqual([
      "setup one",
      "one saw host.extension.loaded one",
      "setup two",
      "one saw host.extension.loaded two",
      "two saw host.extension.loaded two",
      "one saw host.extension.failed gone",
      "two saw host.extension.failed gone",
      "one saw host.ready",
      "two saw host.ready",
      "one saw host.shutdown",
      "two saw host.shutdown",
      "returned teardown two",
      "exported teardown two",
      "returned teardown one",
      "exported teardown one",
    ]);
  });

  it("runs teardowns in reverse load order, goes on past a failing one, then closes the bus", async () => {
    (globalThis as Trail).__trail = [];
    const log = captureConsole();
    const dir = extensionsDir({
      a: tracer("a"),
      b: "export function setup() { return () => { throw new Error('teardown boom'); }; }",
      c: tracer("c"),
    });
    const bus = new EventBus();
    const host = await startHost({ bus, extensions: ["a", "b", "c"], extensionsDir: dir, console: log.sink });
    await host.close();
    const teardowns = ((globalThis as Trail).__trail ?? []).filter((line) => line.includes("teardown"));
    expect(teardowns).toEqual([
      "returned teardown c",
      "exported teardown c",
      "returned teardown a",
      "exported teardown a",
    ]);
    expect(log.text()).toContain("teardown of b failed\nError: teardown boom");
    expect(() => bus.publish("after.close")).toThrow(/closed/u);
  });

  it("waits for an async teardown, and moves on from one that hangs past the timeout", async () => {
    (globalThis as Trail).__trail = [];
    const log = captureConsole();
    const dir = extensionsDir({
      slow: `export function setup() { return async () => { await new Promise((r) => setTimeout(r, 30)); globalThis.__trail.push("slow done"); }; }`,
      stuck: "export function setup() { return () => new Promise(() => {}); }",
    });
    const host = await startHost({
      extensions: ["slow", "stuck"],
      extensionsDir: dir,
      console: log.sink,
      teardownTimeout: 100,
    });
    await host.close();
    expect((globalThis as Trail).__trail).toEqual(["slow done"]);
    expect(log.text()).toContain("teardown of stuck still running after 100 ms; moving on");
  });

  it("gives every extension the host's one bus and aborts its signal at shutdown", async () => {
    const dir = extensionsDir({
      probe: "export function setup(ctx) { globalThis.__probe = ctx; }",
    });
    const bus = new EventBus();
    const host = await startHost({
      bus,
      extensions: ["probe"],
      extensionsDir: dir,
      console: captureConsole().sink,
    });
    const ctx = (
      globalThis as { __probe?: { bus: unknown; signal: AbortSignal; dataDir: string; name: string } }
    ).__probe;
    expect(ctx?.bus).toBe(bus);
    expect(host.bus).toBe(bus);
    expect(ctx?.name).toBe("probe");
    expect(ctx?.dataDir).toMatch(/probe$/u);
    expect(ctx?.signal.aborted).toBe(false);
    await host.close();
    expect(ctx?.signal.aborted).toBe(true);
  });
});
