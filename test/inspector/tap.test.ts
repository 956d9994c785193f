import { describe, expect, it } from "vitest";
import { EventBus } from "../../src/index.js";
import { renderMetrics } from "../../src/inspector/prometheus.js";
import { RateHistory } from "../../src/inspector/rates.js";
import { BusTap } from "../../src/inspector/tap.js";

describe("BusTap", () => {
  it("counts published, delivered and failed per type, leaving its own subscription out", async () => {
    const bus = new EventBus({ onError: () => undefined });
    const tap = new BusTap(bus);
    bus.subscribe("task.done", (_data: unknown) => undefined);
    bus.subscribe("task.*", () => {
      throw new Error("broken");
    });
    bus.publish("task.done", 1);
    bus.publish("task.other", 2);
    expect(tap.totals).toEqual({ published: 2, delivered: 1, failed: 2 });
    expect(tap.types.get("task.done")).toEqual({ published: 1, delivered: 1, failed: 1 });
    expect(tap.errors().map((e) => [e.eventType, e.message])).toEqual([
      ["task.done", "Error: broken"],
      ["task.other", "Error: broken"],
    ]);
    expect(tap.subscribers()).toEqual({ "task.done": 1, "task.*": 1 });
    tap.close();
    expect(bus.listenerCount()).toBe(2);
  });

  it("keeps only the most recent events", () => {
    const bus = new EventBus();
    const tap = new BusTap(bus, { recentSize: 3 });
    for (let i = 0; i < 5; i++) bus.publish("x", i);
    expect(tap.recent().map((e) => e.data)).toEqual([2, 3, 4]);
  });

  it("counts types past maxTypes under (other), so memory stays bounded", () => {
    const bus = new EventBus();
    const tap = new BusTap(bus, { maxTypes: 2 });
    for (const type of ["a", "b", "c", "d"]) bus.publish(type);
    expect([...tap.types.keys()]).toEqual(["a", "b", "(other)"]);
    expect(tap.types.get("(other)")?.published).toBe(2);
  });
});

describe("RateHistory", () => {
  it("reports events per second for the total and the busiest types", () => {
    let now = 1_000_000;
    const rates = new RateHistory(60, 10, () => now);
    rates.count("a");
    rates.count("a");
    rates.count("b");
    now += 1000;
    rates.count("a");
    const snapshot = rates.snapshot(3, 1);
    expect(snapshot.total).toEqual([0, 3, 1]);
    expect(snapshot.byType).toEqual({ a: [0, 2, 1] });
  });

  it("forgets seconds older than its window", () => {
    let now = 5_000_000;
    const rates = new RateHistory(10, 10, () => now);
    rates.count("a");
    now += 10_000;
    rates.count("a");
    expect(rates.snapshot(10).total.reduce((a, b) => a + b)).toBe(1);
  });

  it("evicts the quietest type when too many are tracked", () => {
    const now = 7_000_000;
    const rates = new RateHistory(10, 2, () => now);
    rates.count("busy");
    rates.count("busy");
    rates.count("quiet");
    rates.count("new");
    expect(Object.keys(rates.snapshot(10, 5).byType).sort()).toEqual(["busy", "new"]);
  });
});

describe("renderMetrics", () => {
  it("writes Prometheus text with escaped labels and a consistent histogram", () => {
    const bus = new EventBus({ onError: () => undefined });
    const tap = new BusTap(bus);
    bus.subscribe('we"ird\\type', (_data: unknown) => undefined);
    bus.publish('we"ird\\type');
    const text = renderMetrics(tap, { clients: 2, dropped: 5 });
    expect(text).toContain('agent_bus_events_published_total{type="we\\"ird\\\\type"} 1');
    expect(text).toContain('agent_bus_deliveries_total{type="we\\"ird\\\\type"} 1');
    expect(text).toContain("# TYPE agent_bus_callback_duration_seconds histogram");
    expect(text).toContain('agent_bus_callback_duration_seconds_bucket{le="+Inf"} 1');
    expect(text).toContain("agent_bus_callback_duration_seconds_count 1");
    expect(text).toContain("agent_bus_inspector_clients 2");
    expect(text).toContain("agent_bus_inspector_dropped_total 5");
    expect(text.endsWith("\n")).toBe(true);
    // Histogram buckets are cumulative: never decreasing.
    const buckets = [...text.matchAll(/_bucket\{le="[^"]+"\} (\d+)/g)].map((m) => Number(m[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });
});
