import { afterEach, describe, expect, it, vi } from "vitest";
import { bus, EventBus } from "../../src/index.js";

describe("the shared bus", () => {
  const offs: (() => unknown)[] = [];
  afterEach(() => {
    for (const off of offs.splice(0)) off();
  });

  it("is one EventBus instance that every importer shares", async () => {
    const again = await import("../../src/index.js");
    expect(bus).toBeInstanceOf(EventBus);
    expect(again.bus).toBe(bus);
  });

  it("is the same bus in a second copy of agent-bus loaded by the same process", async () => {
    // The built package beside these sources: another module instance, with its own EventBus class.
    const built = "../../dist/index.js";
    const copy = (await import(built)) as typeof import("../../src/index.js");
    expect(copy.EventBus).not.toBe(EventBus);
    expect(copy.bus).toBe(bus);
    const got: unknown[] = [];
    offs.push(copy.bus.subscribe("copies.meet", (data) => got.push(data)));
    bus.publish("copies.meet", 1);
    expect(got).toEqual([1]);
  });

  it("delivers a published event to a subscriber, as in the seed's basic usage", () => {
    const received: unknown[] = [];
    const onEvent = (data: unknown) => received.push(data);
    bus.subscribe("my_event", onEvent);
    offs.push(() => bus.unsubscribe("my_event", onEvent));
    bus.publish("my_event", { message: "Hello, World!" });
    expect(received).toEqual([{ message: "Hello, World!" }]);
  });
});

describe("subscribe and publish", () => {
  it("passes the very same data reference to every callback", () => {
    const b = new EventBus();
    const data = { task: "done" };
    const seen: unknown[] = [];
    b.subscribe("task_completed", (d) => seen.push(d));
    b.subscribe("task_completed", (d) => seen.push(d));
    b.publish("task_completed", data);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(data);
    expect(seen[1]).toBe(data);
  });

  it("passes undefined when no data is given", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("simple_event", callback);
    b.publish("simple_event");
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback.mock.calls[0]?.[0]).toBeUndefined();
  });

  it("runs callbacks synchronously, in subscription order, before publish returns", () => {
    const b = new EventBus();
    const order: string[] = [];
    b.subscribe("task_completed", () => order.push("handler1"));
    b.subscribe("task_completed", () => order.push("handler2"));
    b.subscribe("task_completed", () => order.push("handler3"));
    b.publish("task_completed", { task: "done" });
    order.push("after publish");
    expect(order).toEqual(["handler1", "handler2", "handler3", "after publish"]);
  });

  it("matches event types exactly and case-sensitively", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("Task_Completed", callback);
    b.publish("task_completed", 1);
    b.publish("Task_Completed2", 2);
    expect(callback).not.toHaveBeenCalled();
    b.publish("Task_Completed", 3);
    expect(callback).toHaveBeenCalledOnce();
  });

  it("registers the same callback twice and calls it twice, as the Python original does", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("x", callback);
    b.subscribe("x", callback);
    b.publish("x");
    expect(callback).toHaveBeenCalledTimes(2);
  });

  it("keeps independent buses apart", () => {
    const a = new EventBus();
    const b = new EventBus();
    const callback = vi.fn();
    a.subscribe("x", callback);
    b.publish("x");
    expect(callback).not.toHaveBeenCalled();
  });
});

describe("unsubscribe", () => {
  it("removes the earliest registration of the callback and returns true", () => {
    const b = new EventBus();
    const calls: string[] = [];
    const callback = (d: string) => calls.push(d);
    b.subscribe("x", callback);
    b.subscribe("x", () => calls.push("other"));
    b.subscribe("x", callback);
    expect(b.unsubscribe("x", callback)).toBe(true);
    b.publish("x", "cb");
    // The earliest one went, so "other" now runs before the remaining registration.
    expect(calls).toEqual(["other", "cb"]);
  });

  it("returns false when there is nothing to remove, and never throws", () => {
    const b = new EventBus();
    const callback = () => undefined;
    expect(b.unsubscribe("x", callback)).toBe(false);
    b.subscribe("x", callback);
    expect(b.unsubscribe("y", callback)).toBe(false);
    expect(b.unsubscribe("x", () => undefined)).toBe(false);
    expect(b.unsubscribe(42 as unknown as string, callback)).toBe(false);
    expect(b.unsubscribe("x", "nope" as unknown as () => void)).toBe(false);
    expect(b.unsubscribe("x", callback)).toBe(true);
    expect(b.unsubscribe("x", callback)).toBe(false);
  });

  it("stops deliveries to the removed callback", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("x", callback);
    b.unsubscribe("x", callback);
    b.publish("x");
    expect(callback).not.toHaveBeenCalled();
    expect(b.listenerCount("x")).toBe(0);
  });
});

describe("the unsubscribe function returned by subscribe", () => {
  it("removes exactly its own registration, even when the callback is registered twice", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("x", callback);
    const offSecond = b.subscribe("x", callback);
    expect(offSecond()).toBe(true);
    b.publish("x");
    expect(callback).toHaveBeenCalledTimes(1);
    expect(b.listenerCount("x")).toBe(1);
  });

  it("is idempotent", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("x", callback);
    const off = b.subscribe("x", callback);
    expect(off()).toBe(true);
    expect(off()).toBe(false);
    expect(b.listenerCount("x")).toBe(1);
  });

  it("works as a disposable, for `using`", () => {
    const b = new EventBus();
    const callback = vi.fn();
    {
      const off = b.subscribe("x", callback);
      off[Symbol.dispose]();
    }
    b.publish("x");
    expect(callback).not.toHaveBeenCalled();
  });
});

describe("subscribe options", () => {
  it("once: removes the subscription before its first call", () => {
    const b = new EventBus();
    const callback = vi.fn((_data: string) => b.publish("x", "nested"));
    b.subscribe("x", callback, { once: true });
    b.publish("x", "first");
    b.publish("x", "second");
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback.mock.calls[0]?.[0]).toBe("first");
    expect(b.listenerCount("x")).toBe(0);
  });

  it("signal: an abort removes the subscription", () => {
    const b = new EventBus();
    const controller = new AbortController();
    const callback = vi.fn();
    b.subscribe("x", callback, { signal: controller.signal });
    b.publish("x");
    controller.abort();
    b.publish("x");
    expect(callback).toHaveBeenCalledTimes(1);
    expect(b.listenerCount("x")).toBe(0);
  });

  it("signal: an already aborted signal subscribes nothing", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("x", callback, { signal: AbortSignal.abort() });
    b.publish("x");
    expect(callback).not.toHaveBeenCalled();
    expect(b.listenerCount()).toBe(0);
  });

  it("durable: refused with a clear error on a bus without a transport", () => {
    const b = new EventBus();
    expect(() => b.subscribe("x", () => undefined, { durable: "worker" })).toThrow(/durable.*transport/);
    expect(b.listenerCount()).toBe(0);
  });
});
