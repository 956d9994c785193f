import { describe, expect, it } from "vitest";
import { STALL_MS, StallWatch } from "../../src/transports/_nats-stall.js";

/** Blocks the thread, as a callback that never yields does. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe("stall watch", () => {
  it("names a delivery that blocked, ended by the next one or by the end of the run", async () => {
    const logged: string[] = [];
    const watch = new StallWatch((message) => logged.push(message));
    watch.begin("quick");
    watch.begin("slow.first");
    block(STALL_MS + 50);
    // The next delivery of the same run ends it.
    watch.begin("quick");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/a callback on "slow\.first" blocked the event loop for \d+ ms/u);
    await Promise.resolve();
    expect(logged).toHaveLength(1);

    // The last delivery of a run is ended by the microtask that follows the run.
    watch.begin("slow.last");
    block(STALL_MS + 50);
    await Promise.resolve();
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatch(/"slow\.last"/u);
    expect(watch.explain()?.message).toMatch(/after a callback on "slow\.last" blocked for \d+ ms/u);
  });

  it("says nothing of deliveries apart in time that were each quick", async () => {
    const logged: string[] = [];
    const watch = new StallWatch((message) => logged.push(message));
    watch.begin("a");
    await new Promise((resolve) => setTimeout(resolve, STALL_MS + 50));
    watch.begin("b");
    await Promise.resolve();
    expect(logged).toEqual([]);
    expect(watch.explain()).toBeUndefined();
  });
});
