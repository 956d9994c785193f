import { afterEach, describe, expect, it, vi } from "vitest";
import { BusClosedError, EventBus, OverflowError, TimeoutError } from "../../src/index.js";

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("publishAsync", () => {
  it("calls the callbacks synchronously, then resolves when their promises settled", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus();
    const order: string[] = [];
    b.subscribe("job", async () => {
      order.push("slow start");
      await tick();
      order.push("slow end");
    });
    b.subscribe("job", () => {
      order.push("sync");
    });
    const report = b.publishAsync("job");
    order.push("returned");
    expect(order).toEqual(["slow start", "sync", "returned"]);
    expect(await report).toEqual({ delivered: 2, failed: 0 });
    expect(order.at(-1)).toBe("slow end");
  });

  it("counts failures, sync and async, and still reports them to onError", async () => {
    const errors: unknown[] = [];
    const b = new EventBus({ onError: (error) => errors.push(error) });
    b.subscribe("job", () => {
      throw new Error("sync");
    });
    b.subscribe("job", async () => {
      await tick();
      throw new Error("async");
    });
    b.subscribe("job", async () => undefined);
    expect(await b.publishAsync("job")).toEqual({ delivered: 1, failed: 2 });
    expect(errors.map((e) => (e as Error).message).sort()).toEqual(["async", "sync"]);
  });

  it("resolves with zero deliveries when nobody listens, and validates the type", async () => {
    const b = new EventBus();
    expect(await b.publishAsync("nobody")).toEqual({ delivered: 0, failed: 0 });
    await expect(b.publishAsync("bad type")).rejects.toThrow(/whitespace/);
  });
});

describe("once", () => {
  it("resolves with the data of the next matching event and unsubscribes", async () => {
    const b = new EventBus();
    const next = b.once("task.*");
    expect(b.listenerCount("task.*")).toBe(1);
    b.publish("task.done", { id: 1 });
    b.publish("task.done", { id: 2 });
    await expect(next).resolves.toEqual({ id: 1 });
    expect(b.listenerCount()).toBe(0);
  });

  it("rejects with a TimeoutError when time runs out, and cleans up", async () => {
    const b = new EventBus();
    const error = await b.once("never", { timeout: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(/5 ms.*"never"/);
    expect(b.listenerCount()).toBe(0);
  });

  it("rejects with the signal's reason when aborted", async () => {
    const b = new EventBus();
    const controller = new AbortController();
    const next = b.once("x", { signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await expect(next).rejects.toThrow("stop waiting");
    expect(b.listenerCount()).toBe(0);
    await expect(b.once("x", { signal: AbortSignal.abort(new Error("already")) })).rejects.toThrow("already");
  });

  it("rejects a bad timeout", async () => {
    const b = new EventBus();
    await expect(b.once("x", { timeout: -1 })).rejects.toThrow(/timeout must be/);
  });

  it("rejects with BusClosedError when the bus closes first", async () => {
    const b = new EventBus();
    const next = b.once("x");
    await b.close();
    await expect(next).rejects.toBeInstanceOf(BusClosedError);
  });
});

describe("events", () => {
  it("iterates the envelopes of matching events in order", async () => {
    const b = new EventBus();
    const stream = b.events("task.*");
    b.publish("task.a", 1);
    b.publish("other", 0);
    b.publish("task.b", 2);
    const first = await stream.next();
    const second = await stream.next();
    expect([first.value?.type, first.value?.data]).toEqual(["task.a", 1]);
    expect([second.value?.type, second.value?.data]).toEqual(["task.b", 2]);
    await stream.return?.();
    expect(b.listenerCount()).toBe(0);
  });

  it("delivers to a loop that waits before the event arrives, and ends on break", async () => {
    const b = new EventBus();
    const got: unknown[] = [];
    const loop = (async () => {
      for await (const event of b.events("x")) {
        got.push(event.data);
        if (got.length === 2) break;
      }
    })();
    await tick();
    b.publish("x", "a");
    await tick();
    b.publish("x", "b");
    await loop;
    expect(got).toEqual(["a", "b"]);
    expect(b.listenerCount()).toBe(0);
  });

  it("drops the oldest events past the buffer by default and counts them", async () => {
    const b = new EventBus();
    const stream = b.events("x", { bufferSize: 3 });
    for (let i = 1; i <= 5; i++) b.publish("x", i);
    expect(stream.dropped).toBe(2);
    const values = [];
    for (let i = 0; i < 3; i++) values.push((await stream.next()).value?.data);
    expect(values).toEqual([3, 4, 5]);
    await stream.return?.();
  });

  it("can drop the newest events instead", async () => {
    const b = new EventBus();
    const stream = b.events("x", { bufferSize: 2, overflow: "drop-newest" });
    for (let i = 1; i <= 4; i++) b.publish("x", i);
    expect(stream.dropped).toBe(2);
    expect((await stream.next()).value?.data).toBe(1);
    expect((await stream.next()).value?.data).toBe(2);
    await stream.return?.();
  });

  it("can fail the iteration on overflow, after the buffered events", async () => {
    const b = new EventBus();
    const stream = b.events("x", { bufferSize: 1, overflow: "error" });
    b.publish("x", 1);
    b.publish("x", 2);
    expect((await stream.next()).value?.data).toBe(1);
    await expect(stream.next()).rejects.toBeInstanceOf(OverflowError);
    expect(b.listenerCount()).toBe(0);
  });

  it("ends quietly when the signal aborts, or when the bus closes", async () => {
    const b = new EventBus();
    const controller = new AbortController();
    const stream = b.events("x", { signal: controller.signal });
    const pending = stream.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(b.listenerCount()).toBe(0);
    const other = b.events("y");
    const waiting = other.next();
    await b.close();
    expect((await waiting).done).toBe(true);
  });

  it("answers next() calls made before the events in the order they were made, and ends them all", async () => {
    const b = new EventBus();
    const stream = b.events("job");
    const first = stream.next();
    const second = stream.next();
    const third = stream.next();
    b.publish("job", 1);
    b.publish("job", 2);
    expect((await first).value?.data).toBe(1);
    expect((await second).value?.data).toBe(2);
    await b.close();
    expect(await third).toEqual({ done: true, value: undefined });
  });

  it("leaves nothing registered when the signal was aborted already", async () => {
    const b = new EventBus();
    const aborted = AbortSignal.abort();
    const added = vi.spyOn(aborted, "addEventListener");
    for (let i = 0; i < 3; i++) {
      const stream = b.events("chat.>", { signal: aborted });
      expect(await stream.next()).toEqual({ done: true, value: undefined });
    }
    expect(added).not.toHaveBeenCalled();
    expect(b.listenerCount()).toBe(0);
    // A close hook left behind would be run, and kept, by every stream ever made.
    expect((b as unknown as { closeHooks: Set<unknown> }).closeHooks.size).toBe(0);
  });

  it("refuses bad options", () => {
    const b = new EventBus();
    expect(() => b.events("x", { bufferSize: 0 })).toThrow(/bufferSize/);
    expect(() => b.events("x", { overflow: "explode" as never })).toThrow(/overflow/);
    expect(b.listenerCount()).toBe(0);
  });
});
