// The worker transport's port protocol: posts of one turn go over the port as one batch, in
// order, and a batch is read back as the messages it holds.
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBus } from "../../src/index.js";
import { listen, MAX_BATCH, Outbox, type PortLike } from "../../src/transports/_port-io.js";
import { workerTransport } from "../../src/transports/worker.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A port that records what is posted to it, and can refuse messages as a real one refuses a clone. */
function recordingPort(refuse: (message: unknown) => boolean = () => false) {
  const posted: unknown[] = [];
  const port: PortLike = {
    postMessage(message) {
      if (refuse(message)) throw new Error("could not be cloned");
      posted.push(message);
    },
  };
  return { port, posted };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Outbox", () => {
  it("posts the messages of one turn as one batch, in order, at the end of the turn", async () => {
    const { port, posted } = recordingPort();
    const outbox = new Outbox(port);
    for (let i = 0; i < 5; i++) outbox.post({ t: "pub", i });
    expect(posted).toEqual([]);
    await turn();
    expect(posted).toEqual([{ t: "batch", items: [0, 1, 2, 3, 4].map((i) => ({ t: "pub", i })) }]);
  });

  it("posts a lone message as itself", async () => {
    const { port, posted } = recordingPort();
    new Outbox(port).post({ t: "hello" });
    await turn();
    expect(posted).toEqual([{ t: "hello" }]);
  });

  it("sends a full batch at once, so that a publisher that never yields is not held back", async () => {
    const { port, posted } = recordingPort();
    const outbox = new Outbox(port);
    const count = MAX_BATCH * 2 + 3;
    for (let i = 0; i < count; i++) outbox.post({ t: "pub", i });
    expect(posted).toHaveLength(2);
    await turn();
    expect(posted).toHaveLength(3);
    const items = posted.flatMap((message) => (message as { items: { i: number }[] }).items);
    expect(items.map((item) => item.i)).toEqual([...Array(count).keys()]);
  });

  it("posts each message alone when the batch cannot go, and drops only the one that cannot, saying so", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const bad = (message: unknown) =>
      (message as { t: string }).t === "batch" || (message as { bad?: boolean }).bad === true;
    const { port, posted } = recordingPort(bad);
    const outbox = new Outbox(port);
    outbox.post({ t: "pub", i: 0 });
    outbox.post({ t: "msg", bad: true });
    outbox.post({ t: "pub", i: 2 });
    await turn();
    expect(posted).toEqual([
      { t: "pub", i: 0 },
      { t: "pub", i: 2 },
    ]);
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]?.[0])).toContain('dropped a "msg" port message');
  });

  it("crosses a real MessagePort: a function refused by the clone, the rest delivered in order", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { port1, port2 } = new MessageChannel();
    const got: unknown[] = [];
    const stop = listen(port2 as unknown as PortLike, (message) => got.push(message));
    const outbox = new Outbox(port1 as unknown as PortLike);
    outbox.post({ t: "pub", i: 0 });
    outbox.post({ t: "pub", callback: () => 1 });
    outbox.post({ t: "pub", i: 2 });
    await vi.waitFor(() => expect(got).toHaveLength(2));
    expect(got).toEqual([
      { t: "pub", i: 0 },
      { t: "pub", i: 2 },
    ]);
    stop();
    port1.close();
  });
});

describe("listen", () => {
  it("reads a batch as its messages, skips what is not a message, and goes on past a handler that throws", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { port1, port2 } = new MessageChannel();
    const got: unknown[] = [];
    const stop = listen(port2 as unknown as PortLike, (message) => {
      if (message.t === "boom") throw new Error("handler failed");
      got.push(message);
    });
    port1.postMessage({ t: "batch", items: [{ t: "a" }, 42, null, { t: "boom" }, { t: "b" }] });
    port1.postMessage({ t: "batch", items: "not a list" });
    port1.postMessage({ t: "c" });
    await vi.waitFor(() => expect(got).toHaveLength(3));
    expect(got).toEqual([{ t: "a" }, { t: "b" }, { t: "c" }]);
    expect(error).toHaveBeenCalledOnce();
    expect(String(error.mock.calls[0]?.[0])).toContain('handling a "boom" port message failed');
    stop();
    port1.close();
  });
});

describe("ready() over a port", () => {
  it("resolves once the hub has the subscriptions: what is published at once reaches them", async () => {
    const { port1, port2 } = new MessageChannel();
    const main = new EventBus({
      transport: workerTransport({ ports: [port1 as unknown as PortLike], namespace: "ready" }),
    });
    const worker = new EventBus({
      transport: workerTransport({ port: port2 as unknown as PortLike, namespace: "ready" }),
    });
    try {
      const got: unknown[] = [];
      worker.subscribe("job.start", (data) => got.push(data));
      worker.respond("job.ask", (n) => (n as number) + 1);
      await Promise.all([main.ready(), worker.ready()]);
      // In the turn ready() resolved in: the hub must know the subscription and the responder.
      main.publish("job.start", 1);
      expect(await main.request("job.ask", 41, { timeout: 1000 })).toBe(42);
      for (let i = 0; i < 20 && got.length === 0; i++) await turn();
      expect(got).toEqual([1]);
    } finally {
      // The worker first: its close flushes to the hub, which must still be there to answer.
      await worker.close();
      await main.close();
      port1.close();
    }
  });
});
