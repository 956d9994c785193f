import { describe, expect, it, vi } from "vitest";
import { EventBus } from "../../src/index.js";

describe("groups", () => {
  it("gives each event to exactly one member of a group, round robin", () => {
    const b = new EventBus();
    const got: string[] = [];
    b.subscribe("job", () => got.push("w1"), { group: "workers" });
    b.subscribe("job", () => got.push("w2"), { group: "workers" });
    b.subscribe("job", () => got.push("w3"), { group: "workers" });
    for (let i = 0; i < 6; i++) b.publish("job", i);
    expect(got).toEqual(["w1", "w2", "w3", "w1", "w2", "w3"]);
  });

  it("still delivers to every ungrouped subscriber, and once to each group", () => {
    const b = new EventBus();
    const got: string[] = [];
    b.subscribe("job", () => got.push("audit"));
    b.subscribe("job", () => got.push("a1"), { group: "a" });
    b.subscribe("job", () => got.push("a2"), { group: "a" });
    b.subscribe("job", () => got.push("b1"), { group: "b" });
    b.publish("job");
    b.publish("job");
    expect(got.filter((x) => x === "audit")).toHaveLength(2);
    expect(got.filter((x) => x.startsWith("a") && x !== "audit").sort()).toEqual(["a1", "a2"]);
    expect(got.filter((x) => x === "b1")).toHaveLength(2);
  });

  it("works with patterns, one delivery per group per event", () => {
    const b = new EventBus();
    const got: string[] = [];
    b.subscribe("task.*", (_d, e) => got.push(`p1:${e.type}`), { group: "g" });
    b.subscribe("task.*", (_d, e) => got.push(`p2:${e.type}`), { group: "g" });
    b.publish("task.a");
    b.publish("task.b");
    expect(got).toEqual(["p1:task.a", "p2:task.b"]);
  });

  it("skips a member removed during the publish that picked it", () => {
    const b = new EventBus();
    const member = vi.fn();
    let offMember = () => false;
    b.subscribe("job", () => offMember());
    offMember = b.subscribe("job", member, { group: "g" });
    b.publish("job");
    expect(member).not.toHaveBeenCalled();
    expect(b.listenerCount("job")).toBe(1);
  });

  it("counts group members in listenerCount and drops the group with its last member", () => {
    const b = new EventBus();
    const off1 = b.subscribe("job", () => undefined, { group: "g" });
    const off2 = b.subscribe("job", () => undefined, { group: "g" });
    expect(b.listenerCount("job")).toBe(2);
    off1();
    off2();
    expect(b.listenerCount("job")).toBe(0);
    expect(b.eventTypes()).toEqual([]);
  });

  it("unsubscribe(type, callback) finds grouped registrations too, earliest first", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("job", callback, { group: "g" });
    b.subscribe("job", callback);
    expect(b.unsubscribe("job", callback)).toBe(true);
    b.publish("job");
    expect(callback).toHaveBeenCalledTimes(1);
    expect(b.listenerCount("job")).toBe(1);
  });

  it.each([[""], ["two words"], ["a.b"], ["x*"], [7]])("refuses the group name %j", (group) => {
    const b = new EventBus();
    expect(() => b.subscribe("job", () => undefined, { group: group as string })).toThrow(/group must be/);
    expect(b.listenerCount()).toBe(0);
  });
});

describe("groups, when members leave", () => {
  it.each(["j", "j.*"])(
    "a member removed before its turn in a publish hands the event to the next (%s)",
    (pattern) => {
      const b = new EventBus();
      const got: string[] = [];
      let offA: () => boolean = () => false;
      b.subscribe("j" === pattern ? "j" : "j.x", () => {
        offA();
        got.push("plain");
      });
      offA = b.subscribe(pattern, () => got.push("A"), { group: "g" });
      b.subscribe(pattern, () => got.push("B"), { group: "g" });
      b.publish(pattern === "j" ? "j" : "j.x");
      expect(got).toEqual(["plain", "B"]);
    },
  );

  it("a member added during the publish does not take the event of one removed before its turn", () => {
    const b = new EventBus();
    const got: string[] = [];
    let offA: () => boolean = () => false;
    b.subscribe("j", () => {
      offA();
      b.subscribe("j", () => got.push("late"), { group: "g" });
      got.push("plain");
    });
    offA = b.subscribe("j", () => got.push("A"), { group: "g" });
    b.publish("j");
    expect(got).toEqual(["plain"]);
    b.publish("j");
    expect(got).toEqual(["plain", "plain", "late"]);
  });

  it("keeps the round robin's turn when a member before it leaves", () => {
    const b = new EventBus();
    const got: string[] = [];
    const offA = b.subscribe("job", () => got.push("A"), { group: "g" });
    b.subscribe("job", () => got.push("B"), { group: "g" });
    b.subscribe("job", () => got.push("C"), { group: "g" });
    b.publish("job");
    offA();
    for (let i = 0; i < 4; i++) b.publish("job");
    expect(got).toEqual(["A", "B", "C", "B", "C"]);
  });
});
