// Fuzzing event types and patterns: unicode, whitespace of every kind, wildcards in odd places,
// lengths around the limit. Each is either accepted and delivered exactly, or refused with a
// TypeError naming the argument, with nothing registered; the bus keeps serving after.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventBus } from "../../src/index.js";
import { createMemoryHub, memoryTransport } from "../../src/transports/memory.js";
import { waitFor } from "../conformance/helpers.js";
import { name, validEventType, validPattern } from "./_fuzz.js";
import { record } from "./_record.js";

const RUNS = 2000;

function refusal(action: () => unknown): Error | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe("event types and patterns under fuzzing", () => {
  it("publish accepts exactly the valid types and delivers them; refuses the rest with a TypeError", (context) => {
    const bus = new EventBus({ onError: () => undefined, maxListeners: 0 });
    const all: string[] = [];
    bus.subscribe(">", (_data, event) => all.push(event.type));
    let sent = 0;
    let lost = 0;
    let wrongVerdict = 0;
    fc.assert(
      fc.property(name, (type) => {
        sent++;
        const got: unknown[] = [];
        const valid = validEventType(type);
        const off = valid ? bus.subscribe(type, (data) => got.push(data)) : undefined;
        const before = all.length;
        const error = refusal(() => bus.publish(type, { type }));
        off?.();
        if (valid) {
          if (error !== undefined) wrongVerdict++;
          if (got.length !== 1 || all.length !== before + 1 || all.at(-1) !== type) lost++;
          expect(error).toBeUndefined();
          expect(got).toEqual([{ type }]);
        } else {
          if (!(error instanceof TypeError)) wrongVerdict++;
          expect(error).toBeInstanceOf(TypeError);
          expect(error?.message).toMatch(/^eventType /u);
          expect(all.length).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
    bus.publish("after.fuzz", 1);
    expect(all.at(-1)).toBe("after.fuzz");
    record(context, {
      injected: "random event types (unicode, whitespace, wildcards, 500-1100 chars)",
      sent,
      lost,
      duplicated: 0,
      reordered: 0,
      note: `${wrongVerdict} accepted/refused against the README rule`,
    });
  });

  it("subscribe accepts exactly the valid patterns; a refused one registers nothing", (context) => {
    const bus = new EventBus({ onError: () => undefined, maxListeners: 0 });
    let sent = 0;
    fc.assert(
      fc.property(name, (pattern) => {
        sent++;
        const before = bus.listenerCount();
        const error = refusal(() => bus.subscribe(pattern, () => undefined));
        if (validPattern(pattern)) {
          expect(error).toBeUndefined();
          expect(bus.listenerCount()).toBe(before + 1);
          expect(bus.unsubscribe(pattern, () => undefined)).toBe(false);
        } else {
          expect(error).toBeInstanceOf(TypeError);
          expect(error?.message).toMatch(/^pattern /u);
          expect(bus.listenerCount()).toBe(before);
          // The refusal quotes the value (or its first 40 characters) so the caller can find it.
          if (pattern.length > 0)
            expect(error?.message).toContain(JSON.stringify(pattern.slice(0, 40)).slice(1, 6));
        }
      }),
      { numRuns: RUNS },
    );
    const got: number[] = [];
    bus.subscribe("after.*", (n) => got.push(n as number));
    bus.publish("after.fuzz", 1);
    expect(got).toEqual([1]);
    record(context, { injected: "random patterns", sent, lost: 0, duplicated: 0, reordered: 0 });
  });

  // A type holding a lone UTF-16 surrogate would reach a UTF-8 wire as U+FFFD, so that over NATS a
  // subscriber of "a.\ud800" received "a.\udbff" as "a.\ufffd": the core refuses such types.
  it("refuses event types and patterns that hold a lone surrogate (UTF-8 cannot carry them)", (context) => {
    const bus = new EventBus();
    const samples = ["a.\ud800", "\udbff", "ok.\udc00x", "🚀".slice(0, 1)];
    const accepted = samples.filter((type) => refusal(() => bus.publish(type)) === undefined);
    record(context, {
      injected: "types with lone surrogates",
      sent: samples.length,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: `${samples.length - accepted.length} of ${samples.length} refused (before the fix, over NATS "a.\\ud800" and "a.\\udbff" met as "a.\\ufffd")`,
    });
    expect(accepted).toEqual([]);
    for (const pattern of samples) expect(() => bus.subscribe(pattern, () => undefined)).toThrow(TypeError);
  });

  it("every valid type crosses the wire format (memory transport) unchanged", async (context) => {
    const hub = createMemoryHub();
    const [from, to] = [0, 1].map(
      () => new EventBus({ transport: memoryTransport({ hub, namespace: "fuzz" }) }),
    ) as [EventBus, EventBus];
    const got: string[] = [];
    to.subscribe(">", (_data, event) => got.push(event.type));
    await Promise.all([from.ready(), to.ready()]);
    const types = fc.sample(name.filter(validEventType), 1000);
    for (const type of types) from.publish(type, { type });
    await hub.flush();
    await waitFor(() => got.length >= types.length, "every fuzzed type");
    expect(got).toEqual(types);
    record(context, {
      injected: "valid random types over the memory transport",
      sent: types.length,
      lost: types.length - got.length,
      duplicated: 0,
      reordered: 0,
    });
    await Promise.all([from.close(), to.close()]);
  });
});
