import { describe, expect, it, vi } from "vitest";
import { assertEventType, assertPattern, EventBus, matches } from "../../src/index.js";
import { PatternTrie } from "../../src/patterns.js";

describe("pattern subscriptions", () => {
  it("`*` matches exactly one token", () => {
    const b = new EventBus();
    const seen: string[] = [];
    b.subscribe("task.*", (_data, event) => seen.push(event.type));
    b.publish("task.started");
    b.publish("task.completed");
    b.publish("task");
    b.publish("task.step.done");
    b.publish("model.loaded");
    expect(seen).toEqual(["task.started", "task.completed"]);
  });

  it("`*` works in the middle of a pattern", () => {
    const b = new EventBus();
    const seen: string[] = [];
    b.subscribe("agent.*.done", (_data, event) => seen.push(event.type));
    b.publish("agent.coder.done");
    b.publish("agent.coder.started");
    b.publish("agent.done");
    expect(seen).toEqual(["agent.coder.done"]);
  });

  it("`>` matches one or more trailing tokens, never zero", () => {
    const b = new EventBus();
    const seen: string[] = [];
    b.subscribe("task.>", (_data, event) => seen.push(event.type));
    b.publish("task");
    b.publish("task.completed");
    b.publish("task.step.done");
    expect(seen).toEqual(["task.completed", "task.step.done"]);
  });

  it("`>` alone receives every event, single-token names included", () => {
    const b = new EventBus();
    const seen: string[] = [];
    b.subscribe(">", (_data, event) => seen.push(event.type));
    b.publish("task_completed");
    b.publish("model.loaded");
    expect(seen).toEqual(["task_completed", "model.loaded"]);
  });

  it("calls exact and pattern subscribers together in subscription order", () => {
    const b = new EventBus();
    const order: string[] = [];
    b.subscribe("task.*", () => order.push("pattern 1"));
    b.subscribe("task.done", () => order.push("exact"));
    b.subscribe(">", () => order.push("everything"));
    b.subscribe("task.>", () => order.push("pattern 2"));
    b.publish("task.done");
    expect(order).toEqual(["pattern 1", "exact", "everything", "pattern 2"]);
  });

  it("stops delivering after a pattern subscription is removed, and forgets the pattern", () => {
    const b = new EventBus();
    const callback = vi.fn();
    const off = b.subscribe("task.*", callback);
    b.publish("task.a");
    off();
    b.publish("task.a");
    expect(callback).toHaveBeenCalledOnce();
    expect(b.eventTypes()).toEqual([]);
  });

  it("unsubscribes a pattern by the same pattern string", () => {
    const b = new EventBus();
    const callback = vi.fn();
    b.subscribe("task.*", callback);
    expect(b.unsubscribe("task.started", callback)).toBe(false);
    expect(b.unsubscribe("task.*", callback)).toBe(true);
    b.publish("task.started");
    expect(callback).not.toHaveBeenCalled();
  });

  it("routes correctly as exact and pattern subscriptions come and go between publishes", () => {
    const b = new EventBus();
    const seen: string[] = [];
    b.publish("a.b");
    const offExact = b.subscribe("a.b", () => seen.push("exact"));
    b.publish("a.b");
    const offPattern = b.subscribe("a.*", () => seen.push("pattern"));
    b.publish("a.b");
    offExact();
    b.publish("a.b");
    offPattern();
    b.publish("a.b");
    expect(seen).toEqual(["exact", "exact", "pattern", "pattern"]);
  });

  it("keeps matching correct with thousands of patterns present", () => {
    const b = new EventBus({ maxListeners: 0 });
    const hits: string[] = [];
    for (let i = 0; i < 5000; i++) b.subscribe(`agent.${i}.*`, () => hits.push(`agent.${i}.*`));
    b.subscribe("agent.42.>", () => hits.push("agent.42.>"));
    b.publish("agent.42.done");
    b.publish("agent.5000.done");
    expect(hits).toEqual(["agent.42.*", "agent.42.>"]);
  });
});

describe("matches", () => {
  it.each([
    ["a", "a", true],
    ["a", "b", false],
    ["a.*", "a.b", true],
    ["a.*", "a", false],
    ["a.*", "a.b.c", false],
    ["*.b", "a.b", true],
    ["*", "a", true],
    ["*", "a.b", false],
    [">", "a", true],
    [">", "a.b.c", true],
    ["a.>", "a", false],
    ["a.>", "a.b", true],
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.b.d", false],
  ])("%s against %s is %s", (pattern, eventType, expected) => {
    expect(matches(pattern, eventType)).toBe(expected);
  });

  it("agrees with the trie on every case", () => {
    const patterns = ["a", "a.*", "*.b", "*", ">", "a.>", "a.*.c", "*.*", "*.>"];
    const types = ["a", "b", "a.b", "a.b.c", "x.b", "a.c.c"];
    for (const eventType of types) {
      const trie = new PatternTrie<string>();
      for (const pattern of patterns) trie.set(pattern, pattern);
      const found = trie.match(eventType).sort();
      const expected = patterns.filter((pattern) => matches(pattern, eventType)).sort();
      expect(found, eventType).toEqual(expected);
    }
  });
});

describe("PatternTrie", () => {
  it("prunes emptied branches and counts patterns", () => {
    const trie = new PatternTrie<number>();
    trie.set("a.b.c", 1);
    trie.set("a.*", 2);
    expect(trie.size).toBe(2);
    expect(trie.delete("a.b.c")).toBe(true);
    expect(trie.delete("a.b.c")).toBe(false);
    expect(trie.delete("a.b")).toBe(false);
    expect(trie.size).toBe(1);
    expect(trie.match("a.b.c")).toEqual([]);
    expect(trie.match("a.x")).toEqual([2]);
  });
});

describe("validation", () => {
  it.each([
    ["", /must not be empty/],
    ["task completed", /whitespace/],
    ["task\tcompleted", /whitespace/],
    ["task\u00a0completed", /whitespace/],
    ["task..completed", /empty token/],
    [".task", /empty token/],
    ["task.", /empty token/],
    ["task.*", /wildcards/],
    ["task.>", /wildcards/],
    ["ta*sk", /wildcards/],
    ["x".repeat(1025), /over the limit of 1024/],
  ])("refuses to publish %j", (eventType, message) => {
    const b = new EventBus();
    expect(() => b.publish(eventType)).toThrow(TypeError);
    expect(() => b.publish(eventType)).toThrow(message);
  });

  it.each([
    [42, /must be a string, got number 42/],
    [undefined, /must be a string, got undefined$/],
    [null, /must be a string, got null$/],
    [Symbol("s"), /must be a string, got Symbol\(s\)/],
    [{}, /must be a string, got object \{\}/],
  ])("refuses a non-string event type %s, naming it", (eventType, message) => {
    const b = new EventBus();
    expect(() => b.publish(eventType as unknown as string)).toThrow(message);
    expect(() => b.subscribe(eventType as unknown as string, () => undefined)).toThrow(message);
  });

  it("refuses a non-string even when its string form has subscribers, without running its toString", () => {
    for (const withPatterns of [false, true]) {
      const b = new EventBus();
      const got: unknown[] = [];
      b.subscribe("42", (data) => got.push(data));
      if (withPatterns) b.subscribe("other.*", () => undefined);
      b.publish("42", "as a string");
      let converted = 0;
      const sneaky = { toString: () => `${++converted && "42"}` };
      for (const eventType of [42, sneaky]) {
        expect(() => b.publish(eventType as unknown as string, "not a string")).toThrow(/must be a string/);
      }
      expect(b.listenerCount(sneaky as unknown as string)).toBe(0);
      expect(b.unsubscribe(sneaky as unknown as string, () => undefined)).toBe(false);
      expect(converted).toBe(0);
      expect(got).toEqual(["as a string"]);
    }
  });

  it.each([
    ["task.*x", /whole tokens/],
    ["task.>.done", /last token/],
    ["a b", /whitespace/],
    ["a..b", /empty token/],
    ["**", /whole tokens/],
  ])("refuses to subscribe to the pattern %j", (pattern, message) => {
    const b = new EventBus();
    expect(() => b.subscribe(pattern, () => undefined)).toThrow(message);
    expect(b.listenerCount()).toBe(0);
  });

  it("refuses a callback that is not a function, naming what it got", () => {
    const b = new EventBus();
    expect(() => b.subscribe("x", "nope" as never)).toThrow(/callback must be a function, got "nope"/);
    expect(() => b.subscribe("x", null as never)).toThrow(/got null/);
    expect(b.listenerCount()).toBe(0);
  });

  it("accepts unicode, dashes and single-token names", () => {
    expect(() => assertEventType("tâche.terminée")).not.toThrow();
    expect(() => assertEventType("task_completed")).not.toThrow();
    expect(() => assertEventType("model-loaded.v2")).not.toThrow();
    expect(() => assertPattern("*.*.>")).not.toThrow();
  });

  it("keeps refusing a bad type when patterns are present (the routed path)", () => {
    const b = new EventBus();
    b.subscribe("x.*", () => undefined);
    expect(() => b.publish("x.*")).toThrow(/wildcards/);
    expect(() => b.publish(7 as unknown as string)).toThrow(/must be a string/);
  });
});

describe("the validation fast path", () => {
  it("accepts exactly what the token-by-token check accepts", async () => {
    const fc = (await import("fast-check")).default;
    const token = fc.constantFrom("a", "b", "*", ">", "", " ", "é", "a*", ">x", "\u00a0", "x.y");
    const candidate = fc.array(token, { minLength: 1, maxLength: 5 }).map((tokens) => tokens.join("."));
    const slow = (check: (value: unknown) => void, value: string) => {
      // The reference: the rules written out, without the regular expressions.
      const tokens = value.split(".");
      const wildcard = check === assertPattern;
      const ok =
        value.length > 0 &&
        !/\s/u.test(value) &&
        tokens.every((t, i) =>
          wildcard
            ? t === "*" || (t === ">" && i === tokens.length - 1) || (t !== "" && !/[*>]/u.test(t))
            : t !== "" && !/[*>]/u.test(t),
        );
      return ok;
    };
    fc.assert(
      fc.property(candidate, (value) => {
        const checks: ((value: unknown) => void)[] = [assertEventType, assertPattern];
        for (const check of checks) {
          let accepted = true;
          try {
            check(value);
          } catch {
            accepted = false;
          }
          expect(accepted, `${check.name}(${JSON.stringify(value)})`).toBe(slow(check, value));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("unicode", () => {
  it("refuses a lone surrogate, which a UTF-8 wire would turn into U+FFFD", () => {
    const b = new EventBus();
    expect(() => b.publish("a.\ud800")).toThrow(/well-formed Unicode/);
    expect(() => b.subscribe("a.\udbff", () => undefined)).toThrow(/well-formed Unicode/);
    expect(() => b.publish("a.\ud83d\ude80")).not.toThrow();
  });
});
