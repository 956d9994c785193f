// The benchmark's floor (bench/_floor.mjs) stands for agent-bus's guarantees kept in plain code,
// and the slot sketch (bench/_sketch.mjs) for the leanest layout that keeps them, so their figures
// mean something only if they keep them: each is checked here on both and, to show that it is the
// same rule, on agent-bus through the same benchmark adapter.
import { afterEach, describe, expect, it, vi } from "vitest";
// @ts-expect-error: the bench scripts are plain ES modules without type declarations
import { adapterFor } from "../bench/_adapters.mjs";

type Callback = (data: unknown, envelope?: unknown) => unknown;
interface Adapter {
  create(options?: { unlimited?: boolean }): unknown;
  sub(em: unknown, type: string, fn: Callback): () => unknown;
  unsub(em: unknown, type: string, fn: Callback, handle: () => unknown): unknown;
  emit(em: unknown, type: string, data: unknown): void;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(["floor", "sketch", "agent-bus"])("the floor's guarantees, on %s", (id) => {
  const adapter = adapterFor(id) as Adapter;
  const quiet = () => vi.spyOn(console, "error").mockImplementation(() => undefined);

  it("calls the others when one listener throws, and reports the error", () => {
    const errors = quiet();
    const em = adapter.create();
    const calls: string[] = [];
    adapter.sub(em, "t", () => calls.push("a"));
    adapter.sub(em, "t", () => {
      throw new Error("boom");
    });
    adapter.sub(em, "t", () => calls.push("c"));
    adapter.emit(em, "t", 1);
    expect(calls).toEqual(["a", "c"]);
    expect(errors.mock.calls.flat().join(" ")).toMatch(/boom/u);
  });

  it("reports a listener's rejected promise", async () => {
    const errors = quiet();
    const em = adapter.create();
    adapter.sub(em, "t", (_data) => Promise.reject(new Error("later")));
    adapter.emit(em, "t", 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors.mock.calls.flat().join(" ")).toMatch(/later/u);
  });

  it("does not call a listener added during a publish until the next one", () => {
    const em = adapter.create();
    const calls: string[] = [];
    let added = false;
    adapter.sub(em, "t", () => {
      calls.push("a");
      if (!added) {
        added = true;
        adapter.sub(em, "t", () => calls.push("new"));
      }
    });
    adapter.emit(em, "t", 1);
    expect(calls).toEqual(["a"]);
    adapter.emit(em, "t", 2);
    expect(calls).toEqual(["a", "a", "new"]);
  });

  it("does not call a listener removed during a publish, even the last one with one added after it", () => {
    const em = adapter.create();
    const calls: string[] = [];
    const handles: Record<string, () => unknown> = {};
    const b: Callback = () => calls.push("b");
    const c: Callback = () => calls.push("c");
    handles.a = adapter.sub(em, "t", () => {
      calls.push("a");
      adapter.unsub(em, "t", b, handles.b as () => unknown);
      adapter.unsub(em, "t", c, handles.c as () => unknown);
      adapter.sub(em, "t", () => calls.push("new"));
    });
    handles.b = adapter.sub(em, "t", b);
    handles.c = adapter.sub(em, "t", c);
    adapter.emit(em, "t", 1);
    expect(calls).toEqual(["a"]);
  });

  it("stops a cycle of publishes with an error, not a stack overflow", () => {
    const errors = quiet();
    const em = adapter.create();
    let depth = 0;
    adapter.sub(em, "t", (_data) => {
      depth++;
      adapter.emit(em, "t", 1);
    });
    try {
      adapter.emit(em, "t", 1);
    } catch {
      // agent-bus lets the cycle's error out of the outermost publish; the floor reports it.
    }
    expect(depth).toBeGreaterThan(1);
    expect(depth).toBeLessThanOrEqual(32);
    const reported = errors.mock.calls.flat().join(" ");
    expect(reported).toMatch(/depth/iu);
    expect(reported).not.toMatch(/Maximum call stack/u);
  });

  it("passes a second argument only to listeners that declare one", () => {
    const em = adapter.create();
    const seen: number[] = [];
    adapter.sub(em, "t", function one(_data: unknown) {
      // biome-ignore lint/complexity/noArguments: counting what the listener was given
      seen.push(arguments.length);
    });
    adapter.sub(em, "t", function two(_data: unknown, envelope?: unknown) {
      // biome-ignore lint/complexity/noArguments: counting what the listener was given
      seen.push(arguments.length);
      expect(envelope).toMatchObject({ type: "t", data: 7 });
    });
    adapter.emit(em, "t", 7);
    expect(seen).toEqual([1, 2]);
  });

  it("removes through the handle once, and warns once when a type's listeners pass the limit", () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const em = adapter.create();
    const calls: number[] = [];
    const handles = Array.from({ length: 101 }, (_, i) => adapter.sub(em, "t", () => calls.push(i)));
    adapter.sub(em, "t", () => calls.push(101));
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(warnings.mock.calls[0]?.join(" ")).toMatch(/100/u);
    expect((handles[5] as () => unknown)()).toBe(true);
    expect((handles[5] as () => unknown)()).toBe(false);
    adapter.emit(em, "t", 1);
    expect(calls).toEqual(Array.from({ length: 102 }, (_, i) => i).filter((i) => i !== 5));
  });
});

describe("the slot sketch's holes and compaction", () => {
  const adapter = adapterFor("sketch") as Adapter;
  const calls: number[] = [];
  const listener = (i: number) => (_data: unknown) => calls.push(i);

  afterEach(() => {
    calls.length = 0;
  });

  it("keeps the order and every handle working across holes, tail pops and compactions", () => {
    const em = adapter.create();
    const handles = Array.from({ length: 10 }, (_, i) => adapter.sub(em, "t", listener(i)));
    // Holes at 1, 3, 5 (the tail stays), then the tail popped with the hole before it.
    for (const i of [1, 3, 5, 9, 8]) expect((handles[i] as () => unknown)()).toBe(true);
    adapter.emit(em, "t", 1);
    expect(calls).toEqual([0, 2, 4, 6, 7]);
    // 6 and 7 removed: holes pass half the slots, so the array is compacted and older handles
    // must find their callbacks again.
    (handles[6] as () => unknown)();
    (handles[2] as () => unknown)();
    calls.length = 0;
    adapter.emit(em, "t", 2);
    expect(calls).toEqual([0, 4, 7]);
    expect((handles[4] as () => unknown)()).toBe(true);
    expect((handles[4] as () => unknown)()).toBe(false);
    calls.length = 0;
    adapter.emit(em, "t", 3);
    expect(calls).toEqual([0, 7]);
  });

  it("compacts only after a publish in progress, and calls new listeners from the next one", () => {
    const em = adapter.create();
    const handles: (() => unknown)[] = [];
    handles.push(
      adapter.sub(em, "t", () => {
        calls.push(0);
        for (const handle of handles.slice(1)) handle();
        adapter.sub(em, "t", listener(9));
      }),
    );
    for (let i = 1; i < 5; i++) handles.push(adapter.sub(em, "t", listener(i)));
    adapter.emit(em, "t", 1);
    expect(calls).toEqual([0]);
    calls.length = 0;
    adapter.emit(em, "t", 2);
    expect(calls).toEqual([0, 9]);
  });

  it("settles the arity of listeners added after a publish", () => {
    const em = adapter.create();
    const envelopes: unknown[] = [];
    adapter.sub(em, "t", listener(0));
    adapter.emit(em, "t", 1);
    adapter.sub(em, "t", (_data, envelope) => envelopes.push(envelope));
    adapter.emit(em, "t", 2);
    expect(envelopes).toEqual([{ type: "t", data: 2 }]);
    expect(calls).toEqual([0, 0]);
  });
});
