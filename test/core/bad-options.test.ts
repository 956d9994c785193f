// Bad options get a TypeError naming the option and what it got, before anything is registered,
// published or scheduled: the bus goes on as if the call had not been made.
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBus } from "../../src/index.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Any value, past the types: these tests pass what a JavaScript caller might. */
const loose = (value: unknown) => value as never;

/** The bus still delivers afterwards, to exactly one fresh subscriber. */
function stillWorks(b: EventBus): void {
  const seen = vi.fn();
  const off = b.subscribe("after.check", seen);
  b.publish("after.check", 1);
  off();
  expect(seen).toHaveBeenCalledExactlyOnceWith(1, expect.anything());
}

describe("bad options", () => {
  it("new EventBus refuses options that are not an object, and a bad source or onStatus", () => {
    expect(() => new EventBus(loose(null))).toThrow(/^options must be an object, got null$/u);
    expect(() => new EventBus(loose("fast"))).toThrow(/^options must be an object, got "fast"$/u);
    expect(() => new EventBus({ source: "" })).toThrow(/^source must be a non-empty string, got ""$/u);
    expect(() => new EventBus({ onStatus: loose(1) })).toThrow(
      /^onStatus must be a function, got number 1$/u,
    );
    // A number given as a string is named as a string, not shown as if it were the number.
    expect(() => new EventBus({ maxListeners: loose("10") })).toThrow(/^maxListeners .*, got "10"$/u);
    expect(() => new EventBus({ maxPublishDepth: loose("10") })).toThrow(/^maxPublishDepth .*, got "10"$/u);
    expect(() => new EventBus({ onError: loose("log") })).toThrow(/^onError must be a function, got "log"$/u);
    expect(() => new EventBus().events("x", { bufferSize: loose("10") })).toThrow(
      /^bufferSize .*, got "10"$/u,
    );
    expect(() => new EventBus().respond("x", loose({}))).toThrow(
      /^responder must be a function, got object \{\}$/u,
    );
    expect(() => new EventBus().publish("x", 1, loose([]))).toThrow(
      /^options must be an object, got object \[\]$/u,
    );
  });

  it.each([
    [null, /^options must be an object, got null$/u],
    [[], /^options must be an object, got object \[\]$/u],
    [{ once: "yes" }, /^once must be a boolean, got "yes"$/u],
    [{ signal: 5 }, /^signal must be an AbortSignal, got number 5$/u],
    [{ signal: {} }, /^signal must be an AbortSignal, got object \{\}$/u],
    [{ group: "" }, /^group must be a non-empty name/u],
  ])("subscribe refuses %j and registers nothing", (options, message) => {
    const b = new EventBus();
    const callback = vi.fn();
    expect(() => b.subscribe("y", callback, loose(options))).toThrow(message);
    expect(b.listenerCount()).toBe(0);
    b.publish("y", 1);
    expect(callback).not.toHaveBeenCalled();
    stillWorks(b);
  });

  it("events() refuses bad options and registers nothing", () => {
    const b = new EventBus();
    expect(() => b.events("q", loose(null))).toThrow(/^options must be an object, got null$/u);
    expect(() => b.events("q", { signal: loose(1) })).toThrow(
      /^signal must be an AbortSignal, got number 1$/u,
    );
    expect(b.listenerCount()).toBe(0);
    stillWorks(b);
  });

  it.each([
    [null, /^options must be an object, got null$/u],
    [{ signal: {} }, /^signal must be an AbortSignal, got object \{\}$/u],
    [
      { timeout: Number.POSITIVE_INFINITY },
      /^timeout must be a non-negative number of milliseconds, at most 2147483647 \(about 24\.8 days\), got number Infinity$/u,
    ],
    [{ timeout: 2 ** 31 }, /at most 2147483647 .*, got number 2147483648$/u],
    [{ timeout: "5" }, /, got "5"$/u],
    [{ timeout: -1 }, /, got number -1$/u],
  ])("once() rejects %j at once and registers nothing", async (options, message) => {
    const b = new EventBus();
    await expect(b.once("r", loose(options))).rejects.toThrow(message);
    expect(b.listenerCount()).toBe(0);
    stillWorks(b);
  });

  it("once() with a timeout past setTimeout's range does not time out after 1 ms", async () => {
    const b = new EventBus();
    const settled = vi.fn();
    b.once("r", { timeout: 2 ** 31 - 1 }).then(settled, settled);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).not.toHaveBeenCalled();
    b.publish("r", "late");
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toHaveBeenCalledWith("late");
  });

  it.each([
    [null, /^options must be an object, got null$/u],
    [{ signal: {} }, /^signal must be an AbortSignal, got object \{\}$/u],
    [{ timeout: 2 ** 31 }, /^timeout must be a positive number of milliseconds, at most 2147483647/u],
    [{ timeout: 0 }, /^timeout must be a positive number/u],
    [{ id: 5 }, /^id must be a non-empty string, got number 5$/u],
    [{ correlationid: "" }, /^correlationid must be a non-empty string, got ""$/u],
  ])("request() rejects %j before any responder runs, and nothing fires later", async (options, message) => {
    const uncaught = vi.fn();
    process.on("uncaughtException", uncaught);
    try {
      const b = new EventBus();
      const responder = vi.fn(() => "reply");
      b.respond("rq", responder);
      await expect(b.request("rq", 1, loose(options))).rejects.toThrow(message);
      expect(responder).not.toHaveBeenCalled();
      // A timer left behind by the refused request would fire here.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(uncaught).not.toHaveBeenCalled();
      await expect(b.request("rq", 2, { timeout: 1000 })).resolves.toBe("reply");
    } finally {
      process.off("uncaughtException", uncaught);
    }
  });

  it.each([
    [null, /^options must be an object, got null$/u],
    [{ id: 5 }, /^id must be a non-empty string, got number 5$/u],
    [{ id: "" }, /^id must be a non-empty string, got ""$/u],
    [{ correlationid: 7 }, /^correlationid must be a non-empty string, got number 7$/u],
    [{ traceparent: {} }, /^traceparent must be a non-empty string, got object \{\}$/u],
  ])("publish refuses the attributes %j before calling anyone, on every path", (options, message) => {
    for (const shape of ["one plain", "walked", "envelope-taking", "with patterns"] as const) {
      const b = new EventBus();
      const calls: string[] = [];
      b.subscribe("x", () => calls.push("first"));
      if (shape !== "one plain") b.subscribe("x", (_data, envelope) => calls.push(`second ${envelope.id}`));
      if (shape === "with patterns") b.subscribe("x.*", () => calls.push("pattern"));
      // Three good publishes first, so that the walked shape has its unrolled walk.
      for (let i = 0; i < 3; i++) b.publish("x", i);
      calls.length = 0;
      expect(() => b.publish("x", 1, loose(options))).toThrow(message);
      expect(calls).toEqual([]);
      stillWorks(b);
    }
  });

  it("publishAsync rejects bad attributes the same way", async () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("x", callback);
    await expect(b.publishAsync("x", 1, loose({ id: 5 }))).rejects.toThrow(/^id must be a non-empty string/u);
    expect(callback).not.toHaveBeenCalled();
  });
});
