import { describe, expect, it } from "vitest";
import { SubscriptionRegistry } from "../../src/_registry.js";
import { EventBus } from "../../src/index.js";

describe("the subscription registry", () => {
  it("keeps an emptied exact list idle for reuse, out of eventTypes()", () => {
    const bus = new EventBus();
    const off = bus.subscribe("task.reply", () => undefined);
    off();
    expect(bus.eventTypes()).toEqual([]);
    expect(bus.listenerCount()).toBe(0);
    const got: unknown[] = [];
    bus.subscribe("task.reply", (data) => got.push(data));
    bus.publish("task.reply", 1);
    expect(got).toEqual([1]);
    expect(bus.eventTypes()).toEqual(["task.reply"]);
  });

  it("sweeps idle lists once they are many, so unique transient types do not pile up", () => {
    const registry = new SubscriptionRegistry();
    for (let i = 0; i < 5000; i++) registry.drop(registry.obtain(`reply.r${i}`));
    expect(registry.exact.size).toBeLessThanOrEqual(1025);
    const live = registry.obtain("live");
    for (let i = 0; i < 3000; i++) registry.drop(registry.obtain(`reply.s${i}`));
    expect(registry.exact.get("live")).toBe(live);
  });

  it("drops a pattern's list at once, so publishes stop matching it", () => {
    const registry = new SubscriptionRegistry();
    const list = registry.obtain("task.*");
    expect(registry.route("task.a")).toEqual([list]);
    registry.drop(list);
    expect(registry.hasPatterns).toBe(false);
    expect(registry.route("task.a")).toEqual([]);
  });
});

describe("unsubscribe(type, callback) on long lists", () => {
  it("removes the earliest registration of each callback, whatever the order of removal", () => {
    const bus = new EventBus({ maxListeners: 0 });
    const calls: number[] = [];
    const callbacks = Array.from({ length: 60 }, (_, i) => (_data: unknown) => calls.push(i));
    for (const callback of callbacks) bus.subscribe("x", callback);
    // Duplicates of a few callbacks at the end, registered twice as the seed allows.
    for (const i of [5, 7, 5]) bus.subscribe("x", callbacks[i] as (data: unknown) => number);
    for (let i = 59; i >= 40; i--)
      expect(bus.unsubscribe("x", callbacks[i] as (data: unknown) => number)).toBe(true);
    expect(bus.unsubscribe("x", callbacks[5] as (data: unknown) => number)).toBe(true);
    expect(bus.unsubscribe("x", callbacks[59] as (data: unknown) => number)).toBe(false);
    bus.publish("x");
    const expected = [...Array(40).keys()].filter((i) => i !== 5);
    expect(calls).toEqual([...expected, 5, 7, 5]);
  });
});
