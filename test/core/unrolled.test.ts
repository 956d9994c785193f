import { afterEach, describe, expect, it, vi } from "vitest";
import { UNROLL_AFTER } from "../../src/_unrolled.js";
import {
  createMemoryHub,
  type Envelope,
  EventBus,
  memoryTransport,
  PublishDepthError,
} from "../../src/index.js";

/**
 * A list published UNROLL_AFTER times without a change takes an unrolled walk instead of the
 * loop. These tests warm a list past that point, prove the walk is the one running (its frame
 * is on the stack), then check the loop's rules still hold there.
 */

/** Whether the current call came through an unrolled walk. */
function inUnrolledWalk(): boolean {
  return new Error().stack?.includes("unrolledWalk") ?? false;
}

/** Runs `run` while console.error throws, as it might with a closed stderr. */
function whileStderrThrows(run: () => void): void {
  const stderr = vi.spyOn(console, "error").mockImplementation(() => {
    throw new Error("stderr is gone");
  });
  try {
    run();
  } finally {
    stderr.mockRestore();
  }
}

function warm(bus: EventBus, type: string): void {
  for (let i = 0; i < UNROLL_AFTER + 1; i++) bus.publish(type, -1);
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("unrolled walks", () => {
  it("take over a list published again and again, and call its callbacks in order", () => {
    const bus = new EventBus();
    const seen: string[] = [];
    let walked = false;
    bus.subscribe("t", (n: number) => {
      walked = inUnrolledWalk();
      if (n >= 0) seen.push(`a${n}`);
    });
    bus.subscribe("t", (n: number) => n >= 0 && seen.push(`b${n}`));
    bus.subscribe("t", (n: number) => n >= 0 && seen.push(`c${n}`));
    bus.publish("t", 0);
    expect(walked).toBe(false);
    warm(bus, "t");
    bus.publish("t", 1);
    expect(walked).toBe(true);
    expect(seen).toEqual(["a0", "b0", "c0", "a1", "b1", "c1"]);
  });

  it("start at the publish after UNROLL_AFTER unchanged ones, and start over after a change", () => {
    const bus = new EventBus();
    const walked: boolean[] = [];
    bus.subscribe("t", (_n: number) => walked.push(inUnrolledWalk()));
    bus.subscribe("t", (_n: number) => undefined);
    const publishes = () => {
      walked.length = 0;
      for (let i = 0; i < UNROLL_AFTER + 2; i++) bus.publish("t", i);
      return [...walked];
    };
    const expected = [...Array<boolean>(UNROLL_AFTER).fill(false), true, true];
    expect(publishes()).toEqual(expected);
    // A new member drops the walk: the loop again, for as many publishes.
    const off = bus.subscribe("t", (_n: number) => undefined);
    expect(publishes()).toEqual(expected);
    off();
    expect(publishes()).toEqual(expected);
  });

  it("isolate a throwing callback and report it with its context", () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ onError: (error, context) => errors.push([error, context.eventType]) });
    const calls: number[] = [];
    const boom = new Error("boom");
    bus.subscribe("t", (n: number) => calls.push(n));
    bus.subscribe("t", (n: number) => {
      if (n >= 0 && inUnrolledWalk()) throw boom;
    });
    bus.subscribe("t", (n: number) => calls.push(n));
    warm(bus, "t");
    calls.length = 0;
    expect(() => bus.publish("t", 7)).not.toThrow();
    expect(calls).toEqual([7, 7]);
    expect(errors).toEqual([[boom, "t"]]);
  });

  it("report the callback that threw, wherever it stands, and go on with the rest once each", () => {
    for (let thrower = 0; thrower < 4; thrower++) {
      const failed: unknown[] = [];
      const bus = new EventBus({ onError: (_error, context) => failed.push(context.callback) });
      const calls: number[] = [];
      const callbacks = [0, 1, 2, 3].map((i) => (n: number) => {
        if (n < 0) return;
        calls.push(i);
        if (i === thrower && inUnrolledWalk()) throw new Error(`boom ${i}`);
      });
      for (const callback of callbacks) bus.subscribe("t", callback);
      warm(bus, "t");
      bus.publish("t", 1);
      expect(calls).toEqual([0, 1, 2, 3]);
      expect(failed).toEqual([callbacks[thrower]]);
      // The walk serves the next publish as well.
      calls.length = 0;
      failed.length = 0;
      bus.publish("t", 2);
      expect(calls).toEqual([0, 1, 2, 3]);
      expect(failed).toHaveLength(1);
    }
  });

  it("skip a subscriber that a throwing callback removed before throwing", () => {
    const failed: string[] = [];
    const bus = new EventBus({ onError: (error) => failed.push((error as Error).message) });
    const calls: string[] = [];
    let offC: () => void = () => undefined;
    bus.subscribe("t", (n: number) => n >= 0 && calls.push("a"));
    bus.subscribe("t", (n: number) => {
      if (n < 0 || !inUnrolledWalk()) return;
      calls.push("b");
      offC();
      throw new Error("b failed");
    });
    offC = bus.subscribe("t", (n: number) => n >= 0 && calls.push("c"));
    bus.subscribe("t", (n: number) => n >= 0 && calls.push("d"));
    warm(bus, "t");
    bus.publish("t", 1);
    expect(calls).toEqual(["a", "b", "d"]);
    expect(failed).toEqual(["b failed"]);
  });

  it("report a promise a callback returned that rejects", async () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ onError: (error) => errors.push(error) });
    const late = new Error("late");
    bus.subscribe("t", (n: number) => (n >= 0 && inUnrolledWalk() ? Promise.reject(late) : undefined));
    bus.subscribe("t", (_n: number) => undefined);
    warm(bus, "t");
    bus.publish("t", 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors).toEqual([late]);
  });

  it("skip a callback removed during the publish, and leave out one added during it until the next", () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ onError: (error) => errors.push(error) });
    const calls: string[] = [];
    const victim = (n: number) => calls.push(`victim${n}`);
    const late = (n: number) => calls.push(`late${n}`);
    bus.subscribe("t", (n: number) => {
      if (n !== 1) return;
      expect(inUnrolledWalk()).toBe(true);
      bus.unsubscribe("t", victim);
      bus.subscribe("t", late);
    });
    bus.subscribe("t", victim);
    warm(bus, "t");
    calls.length = 0;
    bus.publish("t", 1);
    expect(calls).toEqual([]);
    bus.publish("t", 2);
    expect(calls).toEqual(["late2"]);
    expect(errors).toEqual([]);
  });

  it("keep serving, their depth given back, when reporting a callback's error throws too", () => {
    const bus = new EventBus({ maxPublishDepth: 4 });
    const got: number[] = [];
    bus.subscribe("t", (n: number) => {
      if (n >= 0) throw new Error("boom");
    });
    bus.subscribe("t", (n: number) => got.push(n));
    warm(bus, "t");
    got.length = 0;
    // No onError: the error goes to console.error, made to throw as a closed stderr might.
    whileStderrThrows(() => {
      // More throws than the depth limit: a depth not given back would stop publishes short.
      for (let i = 0; i < 10; i++) expect(() => bus.publish("t", i)).toThrow("stderr is gone");
    });
    bus.subscribe("fine", (n: number) => got.push(n));
    bus.publish("fine", 99);
    expect(got).toEqual([99]);
  });

  it("finish a publish with the loop's rules when a callback changes the list", () => {
    const bus = new EventBus();
    const calls: string[] = [];
    let trigger = false;
    const third = (n: number) => calls.push(`third${n}`);
    const late = (n: number) => calls.push(`late${n}`);
    bus.subscribe("t", (_n: number) => {
      if (!trigger) return;
      trigger = false;
      expect(inUnrolledWalk()).toBe(true);
      bus.unsubscribe("t", third);
      bus.subscribe("t", late);
    });
    bus.subscribe("t", (n: number) => calls.push(`second${n}`));
    bus.subscribe("t", third);
    warm(bus, "t");
    calls.length = 0;
    trigger = true;
    bus.publish("t", 1);
    bus.publish("t", 2);
    expect(calls).toEqual(["second1", "second2", "late2"]);
  });

  it("notice a change even when nested publishes have given the list a new walk meanwhile", () => {
    const bus = new EventBus();
    const calls: string[] = [];
    let trigger = false;
    const third = (n: number) => calls.push(`third${n}`);
    bus.subscribe("t", (_n: number) => {
      if (!trigger) return;
      trigger = false;
      bus.unsubscribe("t", third);
      // Enough publishes of the changed list, from inside this call, to earn it a new walk.
      for (let i = 0; i < UNROLL_AFTER + 1; i++) bus.publish("t", -1);
    });
    bus.subscribe("t", (n: number) => n >= 0 && calls.push(`second${n}`));
    bus.subscribe("t", third);
    warm(bus, "t");
    calls.length = 0;
    trigger = true;
    bus.publish("t", 1);
    expect(calls).toEqual(["second1"]);
  });

  it("finish a publish exactly once per callback when a callback changes another list, of this bus or another", () => {
    const bus = new EventBus();
    const other = new EventBus();
    const calls: string[] = [];
    let trigger: (() => void) | undefined;
    bus.subscribe("t", (n: number) => {
      if (n < 0) return;
      calls.push(`first${n}`);
      expect(inUnrolledWalk()).toBe(true);
      trigger?.();
      trigger = undefined;
    });
    bus.subscribe("t", (n: number) => n >= 0 && calls.push(`second${n}`));
    bus.subscribe("t", (n: number) => n >= 0 && calls.push(`third${n}`));
    // Warm lists elsewhere whose walks a callback of "t" drops: the walk of "t" then finishes
    // through the loop, which must call each remaining callback once, in order.
    const offU = bus.subscribe("u", () => undefined);
    bus.subscribe("u", () => undefined);
    warm(bus, "u");
    other.subscribe("v", () => undefined);
    const offV = other.subscribe("v", () => undefined);
    warm(other, "v");
    warm(bus, "t");
    calls.length = 0;
    trigger = offU;
    bus.publish("t", 1);
    trigger = offV;
    bus.publish("t", 2);
    trigger = () => bus.subscribe("u", () => undefined);
    bus.publish("t", 3);
    bus.publish("t", 4);
    expect(calls).toEqual([1, 2, 3, 4].flatMap((n) => [`first${n}`, `second${n}`, `third${n}`]));
  });

  it("give the depth back when reporting throws in the rest of a changed publish", () => {
    const bus = new EventBus({ maxPublishDepth: 4 });
    const other = (_n: number) => undefined;
    bus.subscribe("t", (n: number) => {
      if (n >= 0) bus.subscribe("t", other)();
    });
    bus.subscribe("t", (n: number) => {
      if (n >= 0) throw new Error("boom");
    });
    // More rounds than the depth limit: a depth not given back would stop publishes short.
    for (let i = 0; i < 6; i++) {
      warm(bus, "t");
      whileStderrThrows(() => expect(() => bus.publish("t", i)).toThrow("stderr is gone"));
    }
    const got: number[] = [];
    bus.subscribe("fine", (n: number) => got.push(n));
    bus.publish("fine", 99);
    expect(got).toEqual([99]);
  });

  it("give way to a group that joins a warm list", () => {
    const bus = new EventBus();
    const calls: string[] = [];
    bus.subscribe("t", (n: number) => n >= 0 && calls.push(`a${n}`));
    bus.subscribe("t", (n: number) => n >= 0 && calls.push(`b${n}`));
    warm(bus, "t");
    bus.subscribe("t", (n: number) => n >= 0 && calls.push(`g${n}`), { group: "workers" });
    warm(bus, "t");
    bus.publish("t", 1);
    expect(calls).toEqual(["a1", "b1", "g1"]);
  });

  it("report a remote event's own envelope when a callback throws in a walk", async () => {
    const hub = createMemoryHub();
    const errors: { id: string | undefined; correlationid: string | undefined; walked: boolean }[] = [];
    const receiver = new EventBus({
      transport: memoryTransport({ hub, namespace: "walks" }),
      onError: (_error, context) =>
        errors.push({ id: context.event?.id, correlationid: context.event?.correlationid, walked }),
    });
    const sender = new EventBus({ transport: memoryTransport({ hub, namespace: "walks" }) });
    let walked = false;
    receiver.subscribe("t", (n: number) => {
      walked = inUnrolledWalk();
      if (n >= 0) throw new Error("boom");
    });
    receiver.subscribe("t", (_n: number) => undefined);
    await Promise.all([receiver.ready(), sender.ready()]);
    const arrived = (count: number) =>
      new Promise<void>((resolve) => {
        let seen = 0;
        const off = receiver.subscribe("done", () => {
          if (++seen === count) {
            off();
            resolve();
          }
        });
      });
    const warmed = arrived(1);
    for (let i = 0; i < UNROLL_AFTER + 1; i++) sender.publish("t", -1);
    sender.publish("done", 0);
    await warmed;
    const last = arrived(1);
    sender.publish("t", 1, { id: "remote-1", correlationid: "c-9" });
    sender.publish("done", 0);
    await last;
    expect(errors).toEqual([{ id: "remote-1", correlationid: "c-9", walked: true }]);
    await Promise.all([receiver.close(), sender.close()]);
  });

  it("stop a publish cycle as the loop does, and the list keeps working", () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ maxPublishDepth: 4, onError: (error) => errors.push(error) });
    let loop = false;
    let after = 0;
    bus.subscribe("t", (_n: number) => {
      if (loop) bus.publish("t", 0);
    });
    bus.subscribe("t", (_n: number) => after++);
    warm(bus, "t");
    loop = true;
    bus.publish("t", 0);
    loop = false;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PublishDepthError);
    after = 0;
    bus.publish("t", 0);
    expect(after).toBe(1);
  });

  it("leave lists with too many subscribers to the loop", () => {
    const bus = new EventBus();
    const walked: boolean[] = [];
    const note = (_n: number) => walked.push(inUnrolledWalk());
    for (let i = 0; i < 17; i++) bus.subscribe("many", i === 0 ? note : (_n: number) => undefined);
    for (let i = 0; i < 16; i++) bus.subscribe("sixteen", i === 0 ? note : (_n: number) => undefined);
    for (const type of ["many", "sixteen"]) warm(bus, type);
    walked.length = 0;
    for (const type of ["many", "sixteen"]) bus.publish(type, 0);
    expect(walked).toEqual([false, true]);
  });

  it("hand subscribers that take the envelope one envelope per publish, with its options", () => {
    const bus = new EventBus({ source: "walks" });
    type Seen = { walked: boolean; plain: boolean; envelope?: Envelope };
    const seen: Seen[] = [];
    bus.subscribe("t", (_n: number, envelope: Envelope) =>
      seen.push({ walked: inUnrolledWalk(), plain: false, envelope }),
    );
    bus.subscribe("t", (_n: number) => seen.push({ walked: inUnrolledWalk(), plain: true }));
    bus.subscribe("t", (_n: number, envelope: Envelope) =>
      seen.push({ walked: inUnrolledWalk(), plain: false, envelope }),
    );
    warm(bus, "t");
    seen.length = 0;
    bus.publish("t", 7, { correlationid: "c-1", traceparent: "00-1-2-01" });
    bus.publish("t", 8);
    expect(seen.map(({ walked, plain }) => ({ walked, plain }))).toEqual([
      { walked: true, plain: false },
      { walked: true, plain: true },
      { walked: true, plain: false },
      { walked: true, plain: false },
      { walked: true, plain: true },
      { walked: true, plain: false },
    ]);
    const [first, , second, third, , fourth] = seen.map((entry) => entry.envelope);
    // One envelope per publish, shared by its subscribers; the options reach it.
    expect(second).toBe(first);
    expect(first).toMatchObject({
      type: "t",
      data: 7,
      source: "walks",
      correlationid: "c-1",
      traceparent: "00-1-2-01",
    });
    expect(fourth).toBe(third);
    expect(third).toMatchObject({ type: "t", data: 8 });
    expect(third).not.toHaveProperty("correlationid");
    expect(third?.id).not.toBe(first?.id);
  });

  it("keep the publish's options for the rest of a walk after the list changed", () => {
    const bus = new EventBus();
    const seen: (string | undefined)[] = [];
    let off: (() => void) | undefined;
    bus.subscribe("t", (n: number) => {
      if (n > 0) off?.();
    });
    off = bus.subscribe("t", (_n: number) => undefined);
    bus.subscribe("t", (_n: number, envelope: Envelope) => seen.push(envelope.correlationid));
    warm(bus, "t");
    seen.length = 0;
    bus.publish("t", 1, { correlationid: "after-change" });
    expect(seen).toEqual(["after-change"]);
  });

  it("call a once subscriber added to a warm list once, then unroll again without it", () => {
    const bus = new EventBus();
    const walked: boolean[] = [];
    bus.subscribe("t", (_n: number) => walked.push(inUnrolledWalk()));
    bus.subscribe("t", (_n: number) => undefined);
    warm(bus, "t");
    const once: number[] = [];
    bus.subscribe("t", (n: number) => once.push(n), { once: true });
    warm(bus, "t");
    walked.length = 0;
    bus.publish("t", 5);
    expect(once).toEqual([-1]);
    expect(walked).toEqual([true]);
  });

  it("fall back to the loop where eval is refused", async () => {
    vi.stubGlobal(
      "Function",
      new Proxy(Function, {
        construct() {
          throw new EvalError("Code generation from strings disallowed for this context");
        },
      }),
    );
    vi.resetModules();
    const { EventBus: FreshBus } = await import("../../src/index.js");
    const bus = new FreshBus();
    const walked: boolean[] = [];
    bus.subscribe("t", (_n: number) => walked.push(inUnrolledWalk()));
    bus.subscribe("t", (_n: number) => undefined);
    warm(bus, "t");
    expect(walked).toHaveLength(UNROLL_AFTER + 1);
    expect(walked.every((w) => !w)).toBe(true);
  });

  it("keep the loop for lists of a new shape once 512 shapes have code", async () => {
    vi.resetModules();
    const { EventBus: FreshBus } = await import("../../src/index.js");
    const bus = new FreshBus();
    const walked: boolean[] = [];
    const note = (_n: number, _envelope?: unknown) => walked.push(inUnrolledWalk());
    const plain = (_n: number) => undefined;
    const taking = (_n: number, _envelope: unknown) => undefined;
    // Eleven subscribers each: the first notes where it was called from on the first and the last
    // list; which of the other ten take the envelope follows the bits of the list's number.
    for (let shape = 0; shape <= 512; shape++) {
      const type = `shape${shape}`;
      bus.subscribe(type, shape === 0 || shape === 512 ? note : plain);
      for (let i = 0; i < 10; i++) bus.subscribe(type, (shape & (1 << i)) === 0 ? plain : taking);
      warm(bus, type);
    }
    walked.length = 0;
    bus.publish("shape0", 0);
    bus.publish("shape512", 0);
    expect(walked).toEqual([true, false]);
  });
});

describe("a lone subscriber's one-call path", () => {
  /** Which of the bus's delivery paths the current call came through. */
  function path(): string {
    const stack = new Error().stack ?? "";
    for (const name of ["unrolledWalk", "callOnly", "dispatchPlain"]) if (stack.includes(name)) return name;
    return "unknown";
  }

  it("calls a new subscriber directly at once, through the loop once, then directly for good", () => {
    const bus = new EventBus();
    const paths: string[] = [];
    bus.subscribe("task.reply", (_data: unknown) => paths.push(path()));
    for (let i = 0; i < UNROLL_AFTER + 2; i++) bus.publish("task.reply", i);
    // The first call settles the arity without keeping the subscriber in the list's lone slot
    // (a transient subscriber never needs it); the loop keeps it there at the second.
    expect(paths.slice(0, 3)).toEqual(["callOnly", "dispatchPlain", "callOnly"]);
    expect(new Set(paths.slice(2))).toEqual(new Set(["callOnly"]));
  });

  it("gives the one-call path to the subscriber left alone when the other of two goes, either one", () => {
    for (const removed of ["first", "second"] as const) {
      const bus = new EventBus();
      const paths: string[] = [];
      const offFirst = bus.subscribe("t", (_n: number) => paths.push(`first:${path()}`));
      const offSecond = bus.subscribe("t", (_n: number) => paths.push(`second:${path()}`));
      bus.publish("t", 0);
      (removed === "first" ? offFirst : offSecond)();
      const left = removed === "first" ? "second" : "first";
      paths.length = 0;
      for (let i = 0; i < 3; i++) bus.publish("t", i);
      expect(paths, `after removing the ${removed}`).toEqual([
        `${left}:callOnly`,
        `${left}:callOnly`,
        `${left}:callOnly`,
      ]);
    }
  });

  it("takes the loop, then its walk, never the one-call path, for a lone subscriber that wants the envelope", () => {
    const bus = new EventBus();
    const paths: string[] = [];
    bus.subscribe("task.reply", (_data: unknown, envelope: { id: string }) => {
      expect(envelope.id).toEqual(expect.any(String));
      paths.push(path());
    });
    for (let i = 0; i < 3; i++) bus.publish("task.reply", i);
    expect(paths).toEqual(["dispatchPlain", "dispatchPlain", "unrolledWalk"]);
  });
});
