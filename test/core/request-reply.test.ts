import { describe, expect, it } from "vitest";
import { BusClosedError, EventBus, NoResponderError, TimeoutError } from "../../src/index.js";

describe("request and respond", () => {
  it("resolves with the responder's return value", async () => {
    const b = new EventBus();
    b.respond("math.add", ({ x, y }: { x: number; y: number }) => x + y);
    await expect(b.request("math.add", { x: 2, y: 3 })).resolves.toBe(5);
  });

  it("awaits an async responder and passes it the envelope", async () => {
    const b = new EventBus({ source: "planner" });
    b.respond("agent.ask", async (question: string, event) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return `${event.source} asked: ${question}`;
    });
    await expect(b.request("agent.ask", "why?")).resolves.toBe("planner asked: why?");
  });

  it("rejects at once with NoResponderError when nobody answers", async () => {
    const b = new EventBus();
    const started = Date.now();
    const error = await b.request("nobody.home", 1, { timeout: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoResponderError);
    expect((error as NoResponderError).eventType).toBe("nobody.home");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("ignores plain subscribers: a subscriber is not a responder", async () => {
    const b = new EventBus();
    b.subscribe("math.add", () => 5);
    await expect(b.request("math.add", {})).rejects.toBeInstanceOf(NoResponderError);
  });

  it("rejects with TimeoutError when the responder takes too long", async () => {
    const b = new EventBus();
    b.respond("slow", () => new Promise(() => undefined));
    const error = await b.request("slow", null, { timeout: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it("rejects with the responder's own error, thrown or rejected", async () => {
    const b = new EventBus();
    b.respond("sync.fail", () => {
      throw new Error("cannot do that");
    });
    b.respond("async.fail", async () => {
      throw new RangeError("out of range");
    });
    await expect(b.request("sync.fail", 1)).rejects.toThrow("cannot do that");
    await expect(b.request("async.fail", 1)).rejects.toBeInstanceOf(RangeError);
  });

  it("rejects with the signal's reason when aborted", async () => {
    const b = new EventBus();
    b.respond("slow", () => new Promise(() => undefined));
    const controller = new AbortController();
    const pending = b.request("slow", 1, { signal: controller.signal });
    controller.abort(new Error("user cancelled"));
    await expect(pending).rejects.toThrow("user cancelled");
  });

  it("spreads requests over several responders in turn", async () => {
    const b = new EventBus();
    b.respond("who", () => "a");
    b.respond("who", () => "b");
    const answers = [await b.request("who", 0), await b.request("who", 0), await b.request("who", 0)];
    expect(answers).toEqual(["a", "b", "a"]);
  });

  it("stops answering after the responder is removed", async () => {
    const b = new EventBus();
    const off = b.respond("echo", (x: unknown) => x);
    await expect(b.request("echo", 1)).resolves.toBe(1);
    expect(off()).toBe(true);
    expect(off()).toBe(false);
    await expect(b.request("echo", 1)).rejects.toBeInstanceOf(NoResponderError);
  });

  it("refuses bad input with clear errors", async () => {
    const b = new EventBus();
    expect(() => b.respond("a b", () => 1)).toThrow(/whitespace/);
    expect(() => b.respond("a.*", () => 1)).toThrow(/wildcards/);
    expect(() => b.respond("a", "nope" as never)).toThrow(/responder must be a function/);
    await expect(b.request("a b", 1)).rejects.toThrow(/whitespace/);
    b.respond("ok", () => 1);
    await expect(b.request("ok", 1, { timeout: 0 })).rejects.toThrow(/timeout must be/);
  });
});

describe("request and respond, when responders leave", () => {
  it("keeps the round robin's turn when a responder before it is removed", async () => {
    const b = new EventBus();
    const offA = b.respond("rr", () => "A");
    b.respond("rr", () => "B");
    b.respond("rr", () => "C");
    const got = [await b.request("rr", 0)];
    offA();
    for (let i = 0; i < 4; i++) got.push(await b.request("rr", i));
    expect(got).toEqual(["A", "B", "C", "B", "C"]);
  });
});

describe("request and close", () => {
  it("close() ends a request still waiting for its reply with BusClosedError, timer and all", async () => {
    const b = new EventBus();
    b.respond("slow", () => new Promise(() => undefined));
    const started = Date.now();
    const waiting = b.request("slow", 1, { timeout: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await b.close();
    await expect(waiting).rejects.toBeInstanceOf(BusClosedError);
    await expect(waiting).rejects.toThrow(/Cannot wait for a reply: the bus is closed/u);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a caller's abort still ends the request with the caller's reason", async () => {
    const b = new EventBus();
    b.respond("slow", () => new Promise(() => undefined));
    const controller = new AbortController();
    const waiting = b.request("slow", 1, { signal: controller.signal });
    controller.abort(new Error("changed my mind"));
    await expect(waiting).rejects.toThrow("changed my mind");
    await b.close();
  });
});
