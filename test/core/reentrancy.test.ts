import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBus, PublishDepthError } from "../../src/index.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("re-entrancy", () => {
  it("delivers a nested publish at once, depth first, before the outer publish goes on", () => {
    const b = new EventBus();
    const order: string[] = [];
    b.subscribe("outer", () => {
      order.push("outer-1 start");
      b.publish("inner");
      order.push("outer-1 end");
    });
    b.subscribe("outer", () => order.push("outer-2"));
    b.subscribe("inner", () => order.push("inner"));
    b.publish("outer");
    expect(order).toEqual(["outer-1 start", "inner", "outer-1 end", "outer-2"]);
  });

  it("does not call a callback subscribed during a publish for that publish, only for later ones", () => {
    const b = new EventBus();
    const late = vi.fn();
    b.subscribe("x", () => {
      b.subscribe("x", late);
    });
    b.publish("x", 1);
    expect(late).not.toHaveBeenCalled();
    b.publish("x", 2);
    expect(late).toHaveBeenCalledTimes(1);
    expect(late.mock.calls[0]?.[0]).toBe(2);
  });

  it("never calls a callback removed during the publish by an earlier callback", () => {
    const b = new EventBus();
    const victim = vi.fn();
    b.subscribe("x", () => b.unsubscribe("x", victim));
    b.subscribe("x", victim);
    b.publish("x");
    expect(victim).not.toHaveBeenCalled();
  });

  it("never calls a callback removed through its unsubscribe function during the publish", () => {
    const b = new EventBus();
    const victim = vi.fn();
    let off = () => false;
    b.subscribe("x", () => off());
    off = b.subscribe("x", victim);
    b.publish("x");
    expect(victim).not.toHaveBeenCalled();
  });

  it("lets a callback remove itself and the next one, and still reaches the rest", () => {
    const b = new EventBus();
    const calls: string[] = [];
    const second = () => calls.push("second");
    const first = () => {
      calls.push("first");
      b.unsubscribe("x", first);
      b.unsubscribe("x", second);
    };
    b.subscribe("x", first);
    b.subscribe("x", second);
    b.subscribe("x", () => calls.push("third"));
    b.publish("x");
    b.publish("x");
    expect(calls).toEqual(["first", "third", "third"]);
  });

  it("keeps a removed-then-resubscribed callback out of the running publish", () => {
    const b = new EventBus();
    const calls: string[] = [];
    const target = () => calls.push("target");
    b.subscribe(
      "x",
      () => {
        b.unsubscribe("x", target);
        b.subscribe("x", target);
      },
      { once: true },
    );
    b.subscribe("x", target);
    b.publish("x");
    expect(calls).toEqual([]);
    b.publish("x");
    expect(calls).toEqual(["target"]);
  });

  it("applies the same removal rule to pattern subscriptions", () => {
    const b = new EventBus();
    const victim = vi.fn();
    b.subscribe("task.done", () => b.unsubscribe("task.*", victim));
    b.subscribe("task.*", victim);
    b.publish("task.done");
    expect(victim).not.toHaveBeenCalled();
  });

  it("stops a publish cycle at the depth limit with one error naming the event type", () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus({ maxPublishDepth: 16 });
    let calls = 0;
    b.subscribe("ping", () => {
      calls++;
      b.publish("pong");
    });
    b.subscribe("pong", () => {
      calls++;
      // Two publishes per level: without the unwinding rule this would run 2^16 times.
      b.publish("ping");
      b.publish("ping");
    });
    expect(() => b.publish("ping")).not.toThrow();
    expect(printed).toHaveBeenCalledTimes(1);
    expect(printed.mock.calls[0]?.[0]).toMatch(/depth limit 16 exceeded at "(ping|pong)"/);
    expect(calls).toBeLessThan(40);
    // The bus is usable again afterwards.
    const later = vi.fn();
    b.subscribe("later", later);
    b.publish("later");
    expect(later).toHaveBeenCalledOnce();
  });

  it("hands the cycle to onError as a PublishDepthError", () => {
    const errors: unknown[] = [];
    const b = new EventBus({ onError: (error) => errors.push(error) });
    b.subscribe("a", () => b.publish("a"));
    b.publish("a");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PublishDepthError);
    expect((errors[0] as PublishDepthError).eventType).toBe("a");
  });

  it("reports a cycle through publishAsync once, though each level's promise rejects with it", async () => {
    const reports: { error: unknown; eventType: string }[] = [];
    const b = new EventBus({
      onError: (error, context) => reports.push({ error, eventType: context.eventType }),
    });
    b.subscribe("A", () => b.publishAsync("B"));
    b.subscribe("B", () => b.publishAsync("A"));
    await b.publishAsync("A");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(reports).toHaveLength(1);
    expect(reports[0]?.error).toBeInstanceOf(PublishDepthError);
  });
});

describe("maxListeners", () => {
  it("warns once, naming the type, when subscriptions on one type pass the threshold", () => {
    const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const b = new EventBus({ maxListeners: 3 });
    for (let i = 0; i < 3; i++) b.subscribe("busy", () => undefined);
    expect(warned).not.toHaveBeenCalled();
    for (let i = 0; i < 5; i++) b.subscribe("busy", () => undefined);
    expect(warned).toHaveBeenCalledTimes(1);
    expect(warned.mock.calls[0]?.[0]).toMatch(/memory leak.*4 subscriptions on "busy".*maxListeners is 3/);
  });

  it("defaults to 100 and can be turned off with 0", () => {
    const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const b = new EventBus();
    for (let i = 0; i < 100; i++) b.subscribe("t", () => undefined);
    expect(warned).not.toHaveBeenCalled();
    b.subscribe("t", () => undefined);
    expect(warned).toHaveBeenCalledTimes(1);
    const off = new EventBus({ maxListeners: 0 });
    for (let i = 0; i < 1000; i++) off.subscribe("t", () => undefined);
    expect(warned).toHaveBeenCalledTimes(1);
  });

  it("rejects a bad threshold with a TypeError naming it", () => {
    expect(() => new EventBus({ maxListeners: -1 })).toThrow(/maxListeners/);
    expect(() => new EventBus({ maxPublishDepth: 0 })).toThrow(/maxPublishDepth/);
  });
});

// A type with one one-parameter subscriber is published with a single call and no list walk;
// these check that every change of the list's shape takes it off that path or back on it.
describe("a lone one-parameter subscriber", () => {
  function recorder(got: string[], name: string) {
    return (data: number) => {
      got.push(`${name}:${data}`);
    };
  }

  it("stops being called once unsubscribed, and a new one takes its place", () => {
    const b = new EventBus();
    const got: string[] = [];
    const off = b.subscribe("t", recorder(got, "a"));
    b.publish("t", 1);
    b.publish("t", 2);
    off();
    b.publish("t", 3);
    b.subscribe("t", recorder(got, "b"));
    b.publish("t", 4);
    b.publish("t", 5);
    expect(got).toEqual(["a:1", "a:2", "b:4", "b:5"]);
  });

  it("shares the type with a group member that joins, and has it back to itself when it leaves", () => {
    const b = new EventBus();
    const got: string[] = [];
    b.subscribe("t", recorder(got, "a"));
    b.publish("t", 1);
    const leave = b.subscribe("t", recorder(got, "g"), { group: "workers" });
    b.publish("t", 2);
    leave();
    b.publish("t", 3);
    expect(got).toEqual(["a:1", "a:2", "g:2", "a:3"]);
  });

  it("shares the type with a second subscriber, then a pattern, then an observer", () => {
    const b = new EventBus();
    const got: string[] = [];
    const deliveries: string[] = [];
    b.subscribe("t.x", recorder(got, "a"));
    b.publish("t.x", 1);
    const offB = b.subscribe("t.x", recorder(got, "b"));
    b.publish("t.x", 2);
    offB();
    const offPattern = b.subscribe("t.*", recorder(got, "p"));
    b.publish("t.x", 3);
    offPattern();
    const offObserver = b.addObserver((record) => deliveries.push(record.eventType));
    b.publish("t.x", 4);
    offObserver();
    b.publish("t.x", 5);
    expect(got).toEqual(["a:1", "a:2", "b:2", "a:3", "p:3", "a:4", "a:5"]);
    expect(deliveries).toEqual(["t.x"]);
  });

  it("is removed by its own once option and by its own unsubscribe during the call", () => {
    const b = new EventBus();
    const got: string[] = [];
    b.subscribe("once", recorder(got, "o"), { once: true });
    b.publish("once", 1);
    b.publish("once", 2);
    const off = b.subscribe("self", (data: number) => {
      got.push(`s:${data}`);
      off();
    });
    b.publish("self", 1);
    b.publish("self", 2);
    expect(got).toEqual(["o:1", "s:1"]);
  });

  it("keeps serving after reporting a callback's error itself threw, on one and on several subscribers", () => {
    // No onError: the error goes to console.error, made to throw as a closed stderr might.
    vi.spyOn(console, "error").mockImplementation(() => {
      throw new Error("stderr is gone");
    });
    const b = new EventBus({ maxPublishDepth: 4 });
    const got: number[] = [];
    b.subscribe("one", (_data: number) => {
      throw new Error("boom");
    });
    b.subscribe("many", (_data: number) => {
      throw new Error("boom");
    });
    b.subscribe("many", (data: number) => got.push(data));
    for (let i = 0; i < 10; i++) {
      expect(() => b.publish("one", i)).toThrow("stderr is gone");
      expect(() => b.publish("many", i)).toThrow("stderr is gone");
    }
    vi.mocked(console.error).mockRestore();
    b.subscribe("fine", (data: number) => got.push(data));
    b.publish("fine", 99);
    expect(got).toEqual([99]);
  });

  it("still stops a publish cycle at the depth limit", () => {
    const errors: unknown[] = [];
    const b = new EventBus({ maxPublishDepth: 5, onError: (error) => errors.push(error) });
    let calls = 0;
    b.subscribe("loop", (_data: unknown) => {
      calls++;
      b.publish("loop", null);
    });
    b.publish("loop", null);
    expect(calls).toBe(5);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PublishDepthError);
  });
});

// After its first publish, a list of one-parameter subscribers is walked with one test per
// subscriber (its inline callback, or null for the slow branch); these check that the re-entrancy
// rules hold on that warm path too, not only on a list's first publish.
describe("one-parameter subscribers on a list already published to", () => {
  it("never calls one removed during the publish by an earlier callback", () => {
    const b = new EventBus();
    const got: string[] = [];
    let removeLater = false;
    b.subscribe("t", (data: number) => {
      got.push(`a:${data}`);
      if (removeLater) offC();
    });
    b.subscribe("t", (data: number) => got.push(`b:${data}`));
    const offC = b.subscribe("t", (data: number) => got.push(`c:${data}`));
    b.publish("t", 1);
    b.publish("t", 2);
    removeLater = true;
    b.publish("t", 3);
    b.publish("t", 4);
    expect(got).toEqual(["a:1", "b:1", "c:1", "a:2", "b:2", "c:2", "a:3", "b:3", "a:4", "b:4"]);
  });

  it("lets one remove itself and the next, and still reaches the rest", () => {
    const b = new EventBus();
    const got: string[] = [];
    let remove = false;
    const offA = b.subscribe("t", (data: number) => {
      got.push(`a:${data}`);
      if (!remove) return;
      offA();
      offB();
    });
    const offB = b.subscribe("t", (data: number) => got.push(`b:${data}`));
    b.subscribe("t", (data: number) => got.push(`c:${data}`));
    b.publish("t", 1);
    remove = true;
    b.publish("t", 2);
    b.publish("t", 3);
    expect(got).toEqual(["a:1", "b:1", "c:1", "a:2", "c:2", "c:3"]);
  });

  it("keeps one subscribed during the publish out of it, even after a nested publish called it", () => {
    const b = new EventBus();
    const got: string[] = [];
    let nest = false;
    b.subscribe("t", (data: number) => {
      got.push(`a:${data}`);
      if (!nest) return;
      nest = false;
      b.subscribe("t", (inner: number) => got.push(`late:${inner}`));
      b.publish("t", 10);
      b.publish("t", 11);
    });
    b.subscribe("t", (data: number) => got.push(`b:${data}`));
    b.publish("t", 1);
    nest = true;
    b.publish("t", 2);
    expect(got).toEqual([
      "a:1",
      "b:1",
      "a:2",
      ...["a:10", "b:10", "late:10"],
      ...["a:11", "b:11", "late:11"],
      "b:2",
    ]);
  });

  it("isolates a throwing callback and reports a rejected promise, publish after publish", async () => {
    const errors: string[] = [];
    const b = new EventBus({ onError: (error) => errors.push((error as Error).message) });
    const got: number[] = [];
    b.subscribe("t", (data: number) => {
      throw new Error(`sync ${data}`);
    });
    b.subscribe("t", async (data: number) => {
      throw new Error(`async ${data}`);
    });
    b.subscribe("t", (data: number) => got.push(data));
    b.publish("t", 1);
    b.publish("t", 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual([1, 2]);
    expect(errors.sort()).toEqual(["async 1", "async 2", "sync 1", "sync 2"]);
  });
});

describe("the receiver of a callback", () => {
  it("is undefined on every path: lone, in a walk, wanting the envelope, first call or later", () => {
    const b = new EventBus();
    const seen: string[] = [];
    const recorder = (name: string) =>
      function (this: unknown, _data: unknown) {
        seen.push(`${name}:${String(this)}`);
      };
    b.subscribe("lone", recorder("lone"));
    b.subscribe("walk", recorder("walk1"));
    b.subscribe("walk", recorder("walk2"));
    b.subscribe("envelope", function (this: unknown, _data: unknown, _event: unknown) {
      seen.push(`envelope:${String(this)}`);
    });
    b.subscribe("observed", recorder("observed"));
    for (let i = 0; i < 2; i++) for (const type of ["lone", "walk", "envelope"]) b.publish(type, i);
    const off = b.addObserver(() => undefined);
    b.publish("observed", 0);
    off();
    expect(seen).toEqual([
      ...["lone", "walk1", "walk2", "envelope", "lone", "walk1", "walk2", "envelope", "observed"].map(
        (name) => `${name}:undefined`,
      ),
    ]);
  });
});
