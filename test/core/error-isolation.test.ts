import { afterEach, describe, expect, it, vi } from "vitest";
import { type ErrorContext, EventBus } from "../../src/index.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("error isolation", () => {
  it("prints the seed's line on console.error and still runs the other callbacks", () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus();
    const after = vi.fn();
    b.subscribe("test", () => {
      throw new ValueError("Oops!");
    });
    b.subscribe("test", after);
    expect(() => b.publish("test", {})).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    expect(printed).toHaveBeenCalledWith("[EventBus] Error in callback for test: Oops!");
  });

  it("isolates thrown non-Error values and prints them with String()", () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus();
    const after = vi.fn();
    b.subscribe("t", () => {
      throw "plain string";
    });
    b.subscribe("t", () => {
      throw 42;
    });
    b.subscribe("t", () => {
      throw undefined;
    });
    b.subscribe("t", after);
    b.publish("t");
    expect(after).toHaveBeenCalledOnce();
    expect(printed.mock.calls.map((call) => call[0])).toEqual([
      "[EventBus] Error in callback for t: plain string",
      "[EventBus] Error in callback for t: 42",
      "[EventBus] Error in callback for t: undefined",
    ]);
  });

  it("catches a rejected promise from an async callback and reports it", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus();
    const after = vi.fn();
    b.subscribe("t", async () => {
      throw new Error("async oops");
    });
    b.subscribe("t", after);
    b.publish("t");
    expect(after).toHaveBeenCalledOnce();
    await vi.waitFor(() =>
      expect(printed).toHaveBeenCalledWith("[EventBus] Error in callback for t: async oops"),
    );
  });

  it("hands errors to onError with the event type, the event and the callback, instead of printing", () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const seen: [unknown, ErrorContext][] = [];
    const b = new EventBus({ onError: (error, context) => seen.push([error, context]) });
    const boom = new Error("boom");
    const failing = () => {
      throw boom;
    };
    b.subscribe("task.failed", failing);
    b.publish("task.failed", { id: 7 });
    expect(printed).not.toHaveBeenCalled();
    expect(seen).toHaveLength(1);
    const [error, context] = seen[0] ?? [];
    expect(error).toBe(boom);
    expect(context?.eventType).toBe("task.failed");
    expect(context?.callback).toBe(failing);
    expect(context?.event).toMatchObject({ specversion: "1.0", type: "task.failed", data: { id: 7 } });
  });

  it("gives onError the publish's own event, with its attributes, whatever the callback's arity", async () => {
    const events: { id: string; correlationid?: string; traceparent?: string }[] = [];
    const seen: unknown[] = [];
    const b = new EventBus({ onError: (_error, context) => events.push(context.event) });
    const attributes = {
      id: "evt-1",
      correlationid: "corr-1",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    // Alone (the one-call path), in the loop, in an unrolled walk (from the third publish on),
    // and rejecting: each report carries the publish's attributes.
    // One parameter each: a callback that declares none gets the envelope (arity is not 1).
    b.subscribe("solo", (data: unknown) => {
      throw new Error(`solo ${String(data)}`);
    });
    b.publish("solo", 1, attributes);
    b.subscribe("many", (data: unknown) => {
      throw new Error(`one parameter ${String(data)}`);
    });
    b.subscribe("many", (_data: unknown, envelope: unknown) => seen.push(envelope));
    b.subscribe("many", async (data: unknown) => {
      throw new Error(`async ${String(data)}`);
    });
    for (let i = 0; i < 3; i++) b.publish("many", i, attributes);
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(events).toHaveLength(7);
    for (const event of events) expect(event).toMatchObject(attributes);
    // Without an id given, the report and the later callbacks share one envelope.
    events.length = 0;
    seen.length = 0;
    b.publish("many", 9);
    expect(seen[0]).toBe(events[0]);
  });

  it("survives an onError hook that throws itself", () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus({
      onError: () => {
        throw new Error("hook broke");
      },
    });
    const after = vi.fn();
    b.subscribe("t", () => {
      throw new Error("first");
    });
    b.subscribe("t", after);
    expect(() => b.publish("t")).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    expect(printed).toHaveBeenCalledWith("[EventBus] onError threw while handling t: hook broke");
  });
});

class ValueError extends Error {
  override name = "ValueError";
}

describe("error isolation, whatever was thrown", () => {
  const awkward: [string, () => unknown, RegExp][] = [
    ["an object without a prototype", () => Object.create(null), /: \[object Object\]$/u],
    [
      "an Error whose message getter throws",
      () =>
        Object.defineProperty(new Error("x"), "message", {
          get() {
            throw new Error("no message");
          },
        }),
      /: \[object Error\]$/u,
    ],
    ["a plain object", () => ({ code: 1 }), /: \{"code":1\}$/u],
    [
      "an object with a cycle",
      () => {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        return cycle;
      },
      /: \[object Object\]$/u,
    ],
  ];

  it.each(awkward)("reports %s thrown by a callback, and the next callback still runs", (_, make, line) => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const b = new EventBus();
    const after = vi.fn();
    b.subscribe("t", () => {
      throw make();
    });
    b.subscribe("t", after);
    expect(() => b.publish("t")).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    expect(printed).toHaveBeenCalledOnce();
    expect(printed.mock.calls[0]?.[0]).toMatch(line);
  });

  it.each(awkward)(
    "reports %s rejected by an async callback, without an unhandled rejection",
    async (_, make, line) => {
      const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
      const unhandled = vi.fn();
      process.on("unhandledRejection", unhandled);
      try {
        const b = new EventBus();
        b.subscribe("t", async () => {
          throw make();
        });
        const report = await b.publishAsync("t");
        await new Promise((resolve) => setImmediate(resolve));
        expect(report).toEqual({ delivered: 0, failed: 1 });
        expect(printed.mock.calls[0]?.[0]).toMatch(line);
        expect(unhandled).not.toHaveBeenCalled();
      } finally {
        process.off("unhandledRejection", unhandled);
      }
    },
  );

  it("prints an async onError's rejection as onError's failure, not as an unhandled rejection", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const b = new EventBus({
        onError: async () => {
          throw new Error("hook down");
        },
      });
      const after = vi.fn();
      b.subscribe("t", () => {
        throw new Error("boom");
      });
      b.subscribe("t", after);
      b.publish("t");
      await new Promise((resolve) => setImmediate(resolve));
      expect(after).toHaveBeenCalledOnce();
      expect(printed).toHaveBeenCalledWith("[EventBus] onError threw while handling t: hook down");
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });
});
