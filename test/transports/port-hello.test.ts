// A worker's link and the hub agree on a channel of the link's own, so that the port they met on
// (a Worker's, parentPort) carries none of the bus's traffic afterwards.
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBus, type TransportStatus } from "../../src/index.js";
import { Hub, type HubLink } from "../../src/transports/_hub.js";
import { bridge, PortLink } from "../../src/transports/_port.js";
import { shakeHands } from "../../src/transports/_port-hello.js";
import { listen, type PortLike } from "../../src/transports/_port-io.js";
import { workerTransport } from "../../src/transports/worker.js";
import { waitFor } from "../conformance/helpers.js";

const opened: MessagePort[] = [];
afterEach(() => {
  for (const port of opened.splice(0)) port.close();
});

/** Both ends of a fresh channel, closed after the test. */
function pair(): [PortLike, PortLike] {
  const { port1, port2 } = new MessageChannel();
  opened.push(port1, port2);
  return [port1 as unknown as PortLike, port2 as unknown as PortLike];
}

/** Records what crosses a port, as the program's own listener on it would. */
function watch(port: PortLike): unknown[] {
  const seen: unknown[] = [];
  (port as unknown as MessagePort).on("message", (message) => seen.push(message));
  return seen;
}

describe("the link's own channel", () => {
  it("carries the bus's traffic, and the shared port only the greeting", async () => {
    const [hubSide, linkSide] = pair();
    const hub = new Hub();
    const detach = bridge(hub, hubSide);
    const link = new PortLink(linkSide);
    await link.open(2000);
    // From here on the program's listeners on the shared port must hear nothing of the bus.
    const heardByHubSide = watch(hubSide);
    const heardByLinkSide = watch(linkSide);
    const got: unknown[] = [];
    link.subscribe("ns", "task.*", undefined, (type, frame) => got.push([type, frame]));
    await link.flush();
    hub.publish("ns", "task.done", { headers: {}, body: "1" });
    link.publish("ns", "task.done", { headers: {}, body: "2" });
    await waitFor(() => got.length === 2, "both events through the channel");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heardByHubSide).toEqual([]);
    expect(heardByLinkSide).toEqual([]);
    link.close();
    detach();
  });

  it("stays on the shared port when the hub answers there (an agent-bus from before channels)", async () => {
    const [oldHub, linkSide] = pair();
    const stop = listen(oldHub, (message) => {
      if (message.t === "hello") oldHub.postMessage({ t: "welcome" });
    });
    const handshake = await shakeHands(linkSide, 2000, () => undefined);
    expect(handshake.own).toBe(false);
    expect(handshake.port).toBe(linkSide);
    handshake.stop();
    stop();
  });

  it("stays on a port that cannot hand a channel over", async () => {
    const [hubSide, inner] = pair();
    bridge(new Hub(), hubSide);
    // Anything alike a port, minus transfer: postMessage clones what it is given and no more.
    const plain: PortLike = {
      postMessage: (message, transfer) => {
        if (transfer !== undefined && transfer.length > 0) throw new Error("cannot transfer");
        inner.postMessage(message);
      },
      on: (event, listener) => (inner as unknown as MessagePort).on(event, listener),
      off: (event, listener) => (inner as unknown as MessagePort).off(event, listener),
    };
    const handshake = await shakeHands(plain, 2000, () => undefined);
    expect(handshake.own).toBe(false);
    handshake.stop();
  });

  it("rejects, naming the wait, when no hub answers", async () => {
    const [, linkSide] = pair();
    await expect(shakeHands(linkSide, 120, () => undefined)).rejects.toThrow(
      /no hub answered on the port within 120 ms/u,
    );
  });

  it("drops the link's subscriptions at the hub when the link closes its channel", async () => {
    const [hubSide, linkSide] = pair();
    const hub = new Hub();
    let live = 0;
    const counting: HubLink = Object.assign(Object.create(hub) as Hub, {
      subscribe: (...args: Parameters<Hub["subscribe"]>) => {
        live++;
        const off = hub.subscribe(...args);
        return () => {
          live--;
          off();
        };
      },
    });
    bridge(counting, hubSide);
    const link = new PortLink(linkSide);
    await link.open(2000);
    link.subscribe("ns", "a", undefined, () => undefined);
    link.subscribe("ns", "b", undefined, () => undefined);
    await link.flush();
    expect(live).toBe(2);
    // Closed without unsubscribing first, as when a worker thread ends.
    link.close();
    await waitFor(() => live === 0, "the hub to drop both subscriptions");
  });

  it("tells the link when the hub's end goes away, and not when the link closes itself", async () => {
    const [hubSide, linkSide] = pair();
    const detach = bridge(new Hub(), hubSide);
    let gone = 0;
    const link = new PortLink(linkSide, () => gone++);
    await link.open(2000);
    detach();
    await waitFor(() => gone === 1, "the link to hear that the hub went away");
    const [otherHubSide, otherLinkSide] = pair();
    bridge(new Hub(), otherHubSide);
    let otherGone = 0;
    const other = new PortLink(otherLinkSide, () => otherGone++);
    await other.open(2000);
    other.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(otherGone).toBe(0);
  });

  it("reports a worker's bus disconnected, with why, when the main thread's bus closes", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const [mainSide, workerSide] = pair();
    const main = new EventBus({ transport: workerTransport({ ports: [mainSide] }) });
    const statuses: TransportStatus[] = [];
    const worker = new EventBus({
      transport: workerTransport({ port: workerSide }),
      onStatus: (status) => statuses.push(status),
    });
    await Promise.all([main.ready(), worker.ready()]);
    await main.close();
    await waitFor(
      () => statuses.some((status) => status.state === "disconnected"),
      "the worker's bus to hear it",
    );
    const disconnected = statuses.find((status) => status.state === "disconnected") as { error?: Error };
    expect(disconnected.error?.message).toMatch(/the hub closed this worker's channel/u);
    const logged = String(warn.mock.calls.at(-1)?.[0]);
    expect(logged).toMatch(/events published from now on are lost/u);
    expect(logged).toMatch(/^\[EventBus:worker\] the hub closed/u);
    warn.mockRestore();
    // Nothing to wait for from a hub that is gone: close() does not sit out the flush timeout.
    const closing = Date.now();
    await worker.close();
    expect(Date.now() - closing).toBeLessThan(1000);
  });
});
