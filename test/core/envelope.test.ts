import { describe, expect, it } from "vitest";
import { type Envelope, EventBus } from "../../src/index.js";

describe("the event envelope", () => {
  it("is the callback's second argument, CloudEvents 1.0-shaped", () => {
    const b = new EventBus({ source: "test/agents" });
    const events: Envelope[] = [];
    b.subscribe("task.completed", (_data, event) => events.push(event));
    const data = { id: 1 };
    const before = Date.now();
    b.publish("task.completed", data);
    const event = events[0] as Envelope;
    expect(event.specversion).toBe("1.0");
    expect(event.type).toBe("task.completed");
    expect(event.source).toBe("test/agents");
    expect(event.data).toBe(data);
    expect(typeof event.id).toBe("string");
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before - 1);
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("has a unique id per publish, shared by every callback of that publish", () => {
    const b = new EventBus();
    const ids: string[] = [];
    b.subscribe("x", (_d, e) => ids.push(e.id));
    b.subscribe("x", (_d, e) => ids.push(e.id));
    b.publish("x");
    b.publish("x");
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[0]).not.toBe(ids[2]);
  });

  it("carries the type actually published to a pattern subscriber", () => {
    const b = new EventBus();
    const types: string[] = [];
    b.subscribe("agent.>", (_d, e) => types.push(e.type));
    b.publish("agent.coder.done");
    expect(types).toEqual(["agent.coder.done"]);
  });

  it("carries correlationid, traceparent and a caller's id when the publisher sets them", () => {
    const b = new EventBus();
    const events: Envelope[] = [];
    b.subscribe("x", (_d, e) => events.push(e));
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    b.publish("x", 1, { correlationid: "conv-1", traceparent, id: "fixed-id" });
    b.publish("x", 2);
    expect(events[0]).toMatchObject({ id: "fixed-id", correlationid: "conv-1", traceparent });
    expect(events[1]).not.toHaveProperty("correlationid");
    expect(events[1]).not.toHaveProperty("traceparent");
  });

  it("defaults the source to agent-bus/<id>, distinct per bus", () => {
    const a = new EventBus();
    const b = new EventBus();
    expect(a.source).toMatch(/^agent-bus\/[0-9a-f]{8}$/);
    expect(a.source).not.toBe(b.source);
  });

  it("is not built for one-parameter callbacks, which never see it", () => {
    const b = new EventBus();
    const clock = countClockReads();
    try {
      b.subscribe("x", (data: unknown) => data);
      b.publish("x", 1);
      expect(clock.reads).toBe(0);
      b.subscribe("x", (_data: unknown, event: Envelope) => event);
      b.publish("x", 2);
      expect(clock.reads).toBe(1);
    } finally {
      clock.restore();
    }
  });

  it("ids stay unique and keep the bus's prefix past every digit carry of the counter", () => {
    const b = new EventBus();
    const ids: string[] = [];
    b.subscribe("x", (_d: unknown, e: Envelope) => ids.push(e.id));
    // 36² ids come from a table of digit pairs; 3,000 cross its end twice.
    for (let i = 0; i < 3000; i++) b.publish("x");
    expect(new Set(ids).size).toBe(3000);
    const prefix = (ids[0] as string).slice(0, -2);
    expect(ids.every((id) => id.startsWith(prefix))).toBe(true);
    // Consecutive counter values in base 36, at least two digits.
    const counters = ids.map((id) => id.slice(prefix.length));
    expect(
      counters.every(
        (c, i) => i === 0 || Number.parseInt(c, 36) === Number.parseInt(counters[i - 1] as string, 36) + 1,
      ),
    ).toBe(true);
    const carry = counters.indexOf("zz");
    expect(counters.slice(carry, carry + 3)).toEqual(["zz", "100", "101"]);
  });
});

/** Counts Date.now() calls until restored: the bus's clock reads. */
function countClockReads(): { reads: number; restore: () => void } {
  const realNow = Date.now;
  const counter = { reads: 0, restore: () => (Date.now = realNow) };
  Date.now = () => {
    counter.reads++;
    return realNow();
  };
  return counter;
}

describe("envelope time", () => {
  it("is read afresh in a later task", async () => {
    const b = new EventBus();
    const times: string[] = [];
    b.subscribe("x", (_d, e) => times.push(e.time));
    b.publish("x");
    await new Promise((resolve) => setTimeout(resolve, 5));
    b.publish("x");
    expect(Date.parse(times[1] as string) - Date.parse(times[0] as string)).toBeGreaterThanOrEqual(4);
  });

  it("is shared by at most 64 envelopes built in one synchronous run", () => {
    const b = new EventBus();
    const clock = countClockReads();
    try {
      b.subscribe("x", (_d: unknown, e: Envelope) => e);
      for (let i = 0; i < 640; i++) b.publish("x");
    } finally {
      clock.restore();
    }
    expect(clock.reads).toBeGreaterThanOrEqual(10);
    expect(clock.reads).toBeLessThanOrEqual(11);
  });

  it("reads as toISOString would, whatever the clock does between reads", async () => {
    const b = new EventBus();
    const times: string[] = [];
    b.subscribe("x", (_d: unknown, e: Envelope) => times.push(e.time));
    const start = Date.UTC(2026, 0, 1, 23, 59, 59, 998);
    const readings = [
      start,
      start + 1, // the last millisecond of a second
      start + 2, // the next second, and day, and year
      start + 3,
      start + 3.5, // a mocked clock with fractions
      start + 1003, // a second later, same millisecond
      start - 5000, // the clock went back
      -500, // before 1970
      100,
      Date.UTC(10000, 0, 1), // a six-digit year
      Date.UTC(10000, 0, 1) + 7,
      start + 4,
    ];
    const realNow = Date.now;
    try {
      for (const reading of readings) {
        Date.now = () => reading;
        // A new task: the bus reads the clock afresh.
        await Promise.resolve();
        b.publish("x");
      }
    } finally {
      Date.now = realNow;
    }
    expect(times).toEqual(readings.map((reading) => new Date(reading).toISOString()));
  });
});

describe("which callbacks get the envelope, as README words it", () => {
  it("follows callback.length: a default or a rest parameter does not count; (...args) gets it", () => {
    const b = new EventBus();
    const got: Record<string, unknown> = {};
    b.subscribe("t", (_data, envelope: unknown = null) => {
      got.withDefault = envelope;
    });
    b.subscribe("t", (_data, ...rest: unknown[]) => {
      got.withRest = rest[0];
    });
    b.subscribe("t", (...args: unknown[]) => {
      got.allArgs = args[1];
    });
    b.subscribe("t", (_data, envelope) => {
      got.declared = envelope;
    });
    b.publish("t", 1);
    expect(got.withDefault).toBeNull();
    expect(got.withRest).toBeUndefined();
    expect(got.allArgs).toMatchObject({ type: "t", data: 1 });
    expect(got.declared).toBe(got.allArgs);
  });
});
