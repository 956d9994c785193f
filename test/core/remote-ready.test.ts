// ready() promises that every subscription made so far is in place at the broker: when one cannot
// be, it rejects naming it, until that subscription is removed.
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBus, memoryTransport, type Transport, TransportError } from "../../src/index.js";

/** The memory transport, refusing what a broker's permissions would: "denied.*" later, "broken.*" at once. */
function refusing(): Transport {
  const inner = memoryTransport({ namespace: `ready-${Math.random().toString(36).slice(2)}` });
  return Object.assign(Object.create(inner) as Transport, {
    subscribe: (...args: Parameters<Transport["subscribe"]>) => {
      const [pattern] = args;
      if (pattern.startsWith("denied")) {
        const ready = Promise.reject(new Error(`permissions violation for subscription to "${pattern}"`));
        return { unsubscribe: () => undefined, ready };
      }
      if (pattern.startsWith("broken")) throw new Error("the transport cannot subscribe to that");
      return inner.subscribe(...args);
    },
    respond: (...args: Parameters<Transport["respond"]>) => {
      if (args[0].startsWith("denied"))
        return { unsubscribe: () => undefined, ready: Promise.reject(new Error("no")) };
      return inner.respond(...args);
    },
  });
}

let bus: EventBus | undefined;
afterEach(async () => {
  await bus?.close();
  vi.restoreAllMocks();
});

describe("ready() and subscriptions the broker refuses", () => {
  it("rejects naming the subscription and the broker's reason, and resolves again once it is removed", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    bus = new EventBus({ transport: refusing() });
    bus.subscribe("fine.*", () => undefined);
    const off = bus.subscribe("denied.task", () => undefined);
    const error = await bus.ready().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(
      /subscription to "denied\.task" not in place: permissions violation for subscription to "denied\.task"/u,
    );
    expect(String(warn.mock.calls[0]?.[0])).toContain('subscription to "denied.task" not in place');
    // Still refused on the next call: the subscription is still not there.
    await expect(bus.ready()).rejects.toThrow(/denied\.task/u);
    off();
    await expect(bus.ready()).resolves.toBeUndefined();
  });

  it("names a group, a responder and a subscription the transport throws on, and counts them", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    bus = new EventBus({ transport: refusing() });
    bus.subscribe("denied.jobs", () => undefined, { group: "workers" });
    bus.subscribe("broken.*", () => undefined);
    bus.respond("denied.ask", () => 1);
    const message = await bus.ready().then(
      () => "",
      (failure: unknown) => (failure as Error).message,
    );
    expect(message).toMatch(/subscription to .* not in place \(and 2 more\): /u);
    const logged = warn.mock.calls.map((call) => String(call[0])).join("\n");
    expect(logged).toContain('subscription to "denied.jobs" (group "workers") not in place');
    expect(logged).toContain(
      'subscription to "broken.*" not in place: the transport cannot subscribe to that',
    );
    expect(logged).toContain('subscription to the responder of "denied.ask" not in place');
  });

  it("does not hold a refusal against a subscription removed before it came", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    bus = new EventBus({ transport: refusing() });
    const off = bus.subscribe("denied.early", () => undefined);
    off();
    await expect(bus.ready()).resolves.toBeUndefined();
  });
});
