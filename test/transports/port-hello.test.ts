// A worker's link and the hub agree on a channel of the link's own, so that the port they met on
// (a Worker's, parentPort) carries none of the bus's traffic afterwards.
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { Hub, type HubLink } from "../../src/transports/_hub.js";
import { bridge, PortLink } from "../../src/transports/_port.js";
import { shakeHands } from "../../src/transports/_port-hello.js";
import { listen, type PortLike } from "../../src/transports/_port-io.js";
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
});
