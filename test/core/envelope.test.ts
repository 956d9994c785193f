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
    let builds = 0;
    const realToISOString = Date.prototype.toISOString;
    Date.prototype.toISOString = function (this: Date) {
      builds++;
      return realToISOString.call(this);
    };
    try {
      b.subscribe("x", (data: unknown) => data);
      b.publish("x", 1);
      expect(builds).toBe(0);
      b.subscribe("x", (_data: unknown, event: Envelope) => event);
      b.publish("x", 2);
      expect(builds).toBe(1);
    } finally {
      Date.prototype.toISOString = realToISOString;
    }
  });
});

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
    const realToISOString = Date.prototype.toISOString;
    let reads = 0;
    Date.prototype.toISOString = function (this: Date) {
      reads++;
      return realToISOString.call(this);
    };
    try {
      b.subscribe("x", (_d: unknown, e: Envelope) => e);
      for (let i = 0; i < 640; i++) b.publish("x");
    } finally {
      Date.prototype.toISOString = realToISOString;
    }
    expect(reads).toBeGreaterThanOrEqual(10);
    expect(reads).toBeLessThanOrEqual(11);
  });
});
