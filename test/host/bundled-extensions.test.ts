import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EventBus, bus as sharedBus } from "../../src/index.js";
import { captureConsole, startHost, tempDir } from "./helpers.js";

describe("task_monitor", () => {
  it("tracks each task from started to completed or failed, and answers task_monitor.status", async () => {
    const log = captureConsole();
    const host = await startHost({
      extensions: ["task_monitor"],
      extensionsDir: tempDir(),
      console: log.sink,
    });
    host.bus.publish("task_started", { task_id: 1 });
    host.bus.publish("task_started", { task_id: 2 });
    host.bus.publish("task_started", { task_id: 3 });
    host.bus.publish("task_completed", { task_id: 1, success: true });
    host.bus.publish("task_completed", { task_id: 2, success: false });
    host.bus.publish("task_started", { no_id: true });
    expect(await host.bus.request("task_monitor.status", null)).toEqual({
      counts: { running: 1, completed: 1, failed: 1 },
      tasks: { "1": "completed", "2": "failed", "3": "running" },
    });
    await host.close();
    expect(log.text()).toContain("[task_monitor] tasks: 1 completed, 1 failed, 1 running");
  });
});

describe("event_logger", () => {
  it("writes every event as one JSON line in its data folder", async () => {
    const dataDir = tempDir();
    const host = await startHost({
      extensions: ["event_logger"],
      extensionsDir: tempDir(),
      dataDir,
      console: captureConsole().sink,
    });
    host.bus.publish("task_started", { task_id: 7 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    host.bus.publish("chat.message", cyclic);
    await host.close();
    const lines = readFileSync(join(dataDir, "event_logger", "events.jsonl"), "utf8")
      .trim()
      .split("\n");
    const events = lines.map((line) => JSON.parse(line));
    // The host's lifecycle events are events too, from the logger's own "loaded" on.
    expect(events.map((e) => e.type)).toEqual([
      "host.extension.loaded",
      "host.ready",
      "task_started",
      "chat.message",
      "host.shutdown",
    ]);
    expect(events[2]).toMatchObject({ specversion: "1.0", data: { task_id: 7 } });
    expect(events[3].data).toMatch(/^\[unserializable: /u);
  });
});

describe("metrics", () => {
  it("adds up metric events, answers metrics.report, and logs the report at shutdown", async () => {
    const log = captureConsole();
    const host = await startHost({ extensions: ["metrics"], extensionsDir: tempDir(), console: log.sink });
    // The seed's example: requests 1 + 1 = 2, errors 1.
    host.bus.publish("metric", { name: "requests", value: 1 });
    host.bus.publish("metric", { name: "errors", value: 1 });
    host.bus.publish("metric", { name: "requests" });
    host.bus.publish("metric", { name: "requests", value: "lots" });
    expect(await host.bus.request("metrics.report", null)).toEqual({ requests: 2, errors: 1 });
    expect(log.text()).toContain('[metrics] ignored a metric event: value must be a number, got "lots"');
    await host.close();
    expect(log.text()).toContain("[metrics] report\n  requests: 2\n  errors: 1");
  });
});

describe("demo", () => {
  it("publishes every kind of event the issue lists, and stops at shutdown", async () => {
    const log = captureConsole();
    const config = { "demo-interval_ms": 10, "demo-summary_every_ms": 100 };
    const host = await startHost({
      extensions: ["agent_learning", "demo"],
      extensionsDir: tempDir(),
      config,
      console: log.sink,
    });
    const seen = new Set<string>();
    host.bus.subscribe(">", (_data, envelope) => {
      seen.add(envelope.type);
    });
    const wanted = ["task_started", "task_completed", "task_failed", "chat_message", "metric"];
    await expect.poll(() => wanted.filter((type) => !seen.has(type)), { timeout: 5000 }).toEqual([]);
    await expect
      .poll(() => log.text(), { timeout: 5000 })
      .toMatch(/\[demo\] \d+ events · \d+ tasks? done, \d+ failed · learning progress \d+\.\d%/u);
    await host.close();
    const count = seen.size;
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.size).toBe(count);
    expect(log.text()).toMatch(/\[demo\] stopped after \d+ events/u);
  });

  it("refuses an interval that would flood the bus, naming the setting", async () => {
    const log = captureConsole();
    // 3e9 is past Node's longest timer, which then fires after 1 ms.
    for (const interval of [0, -5, 3e9]) {
      const host = await startHost({
        extensions: ["demo"],
        extensionsDir: tempDir(),
        config: { "demo-interval_ms": interval },
        console: log.sink,
      });
      expect(host.extensions.failed.map((f) => f.message)).toEqual([
        `extension "demo" failed in setup: demo-interval_ms must be from 10 to 2147483647 (milliseconds), got ${interval}`,
      ]);
    }
  });

  it("announces model_loaded when it starts", async () => {
    const bus = new EventBus();
    const models: unknown[] = [];
    bus.subscribe("model_loaded", (data) => models.push(data));
    await startHost({ bus, extensions: ["demo"], extensionsDir: tempDir(), console: captureConsole().sink });
    expect(models).toEqual([{ model_name: "llama-7b" }]);
  });
});

describe("agent_bus", () => {
  it("answers agent_bus.stats and imports the shared bus from 'agent-bus'", async () => {
    const log = captureConsole();
    const host = await startHost({ extensions: ["agent_bus"], extensionsDir: tempDir(), console: log.sink });
    host.bus.subscribe("task.*", () => {});
    const stats = (await host.bus.request("agent_bus.stats", null)) as {
      eventTypes: string[];
      listeners: number;
    };
    expect(stats.eventTypes).toContain("task.*");
    expect(stats.listeners).toBeGreaterThanOrEqual(1);
    // The test's host runs on its own bus, not the shared one, and the extension notices.
    expect(host.bus).not.toBe(sharedBus);
    expect(log.text()).toContain("the host runs on its own bus");
  });
});
