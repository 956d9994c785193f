import { describe, expect, it, vi } from "vitest";
import { BusClosedError, EventBus } from "../../src/index.js";

describe("introspection", () => {
  it("counts subscriptions per type or pattern, and in total", () => {
    const b = new EventBus();
    b.subscribe("a", () => undefined);
    b.subscribe("a", () => undefined);
    b.subscribe("b.*", () => undefined);
    expect(b.listenerCount("a")).toBe(2);
    expect(b.listenerCount("b.*")).toBe(1);
    expect(b.listenerCount("b.x")).toBe(0);
    expect(b.listenerCount()).toBe(3);
  });

  it("lists the types and patterns that have subscribers", () => {
    const b = new EventBus();
    const off = b.subscribe("a", () => undefined);
    b.subscribe("b", () => undefined);
    b.subscribe("c.>", () => undefined);
    expect(b.eventTypes()).toEqual(["a", "b", "c.>"]);
    off();
    expect(b.eventTypes()).toEqual(["b", "c.>"]);
  });
});

describe("close", () => {
  it("removes every subscription and refuses later use with BusClosedError", async () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("a", callback);
    b.subscribe("a.*", callback, { group: "g" });
    b.respond("r", () => 1);
    await b.ready();
    await b.close();
    expect(b.listenerCount()).toBe(0);
    expect(() => b.publish("a")).toThrow(BusClosedError);
    expect(() => b.subscribe("a", callback)).toThrow(BusClosedError);
    expect(() => b.respond("r", () => 1)).toThrow(BusClosedError);
    await expect(b.request("r", 1)).rejects.toBeInstanceOf(BusClosedError);
    expect(callback).not.toHaveBeenCalled();
    await expect(b.close()).resolves.toBeUndefined();
  });

  it("closes through Symbol.asyncDispose", async () => {
    const b = new EventBus();
    await b[Symbol.asyncDispose]();
    expect(() => b.publish("a")).toThrow(/closed/);
  });
});

describe("addObserver", () => {
  it("sees every callback call with its duration and outcome, sync and async", async () => {
    const b = new EventBus({ onError: () => undefined });
    const records: { eventType: string; failed: boolean; durationMs: number; error?: unknown }[] = [];
    const off = b.addObserver((record) => records.push(record));
    b.subscribe("a", (_data: unknown) => undefined);
    b.subscribe("a", () => {
      throw new Error("sync");
    });
    b.subscribe("b.*", async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    b.publish("a");
    b.publish("b.c");
    await vi.waitFor(() => expect(records).toHaveLength(3));
    expect(records.map((r) => [r.eventType, r.failed])).toEqual([
      ["a", false],
      ["a", true],
      ["b.c", false],
    ]);
    expect(records[1]?.error).toEqual(new Error("sync"));
    expect(records[2]?.durationMs).toBeGreaterThanOrEqual(4);
    expect(off()).toBe(true);
    b.publish("a");
    expect(records).toHaveLength(3);
  });

  it("keeps delivering when an observer throws", () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus();
    b.addObserver(() => {
      throw new Error("observer broke");
    });
    const callback = vi.fn((_data: unknown) => undefined);
    b.subscribe("a", callback);
    b.publish("a");
    expect(callback).toHaveBeenCalledOnce();
    expect(printed).toHaveBeenCalledWith("[EventBus] observer threw while watching a: observer broke");
    printed.mockRestore();
  });
});
