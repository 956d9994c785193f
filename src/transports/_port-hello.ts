/**
 * How a worker's link gets a channel of its own. It offers the hub a new MessageChannel through
 * the shared port (a Worker's, or `parentPort`) until the hub takes one and says welcome on it;
 * the bus's traffic then never mixes with what the program posts on the shared port for its own
 * ends, either way. Without MessageChannel, with a port that cannot transfer one, or when the hub
 * welcomes on the shared port (an agent-bus from before channels), the link stays on that port.
 */
import { listen, type Message, type PortLike } from "./_port-io.js";

/** Milliseconds between two offers while no hub answers: the main thread may attach late. */
const OFFER_EVERY = 50;

/** The port a link talks over once a hub welcomed it. */
export interface Handshake {
  readonly port: PortLike;
  /** Stops listening to it. */
  readonly stop: () => void;
  /** True for the link's own channel, which closing the link closes. */
  readonly own: boolean;
}

interface Offer {
  readonly ours: PortLike;
  readonly stop: () => void;
}

/** A new channel's two ends, or undefined where there is no MessageChannel. */
function newChannel(): { ours: PortLike; theirs: PortLike } | undefined {
  if (typeof MessageChannel !== "function") return undefined;
  const { port1, port2 } = new MessageChannel();
  return { ours: port1 as unknown as PortLike, theirs: port2 as unknown as PortLike };
}

/**
 * Says hello until a hub answers; resolves with the port it answered on. `receive` gets every
 * message on that port from then on. Rejects after `timeout` ms without an answer.
 */
export function shakeHands(
  shared: PortLike,
  timeout: number,
  receive: (message: Message) => void,
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const offers: Offer[] = [];
    let chosen: PortLike | undefined;
    let channels = true;
    const route = (port: PortLike) => (message: Message) => {
      if (chosen === port) receive(message);
      else if (chosen === undefined && message.t === "welcome") choose(port);
    };
    const stopShared = listen(shared, route(shared));
    const dropOffers = (keep?: PortLike) => {
      for (const offer of offers) {
        if (offer.ours === keep) continue;
        offer.stop();
        offer.ours.close?.();
      }
    };
    const choose = (port: PortLike) => {
      chosen = port;
      clearInterval(timer);
      dropOffers(port);
      const offer = offers.find((candidate) => candidate.ours === port);
      if (offer === undefined) {
        resolve({ port, stop: stopShared, own: false });
        return;
      }
      stopShared();
      resolve({ port, stop: offer.stop, own: true });
    };
    const offer = () => {
      const channel = channels ? newChannel() : undefined;
      if (channel === undefined) {
        shared.postMessage({ t: "hello" });
        return;
      }
      const stop = listen(channel.ours, route(channel.ours));
      try {
        shared.postMessage({ t: "hello", port: channel.theirs }, [channel.theirs]);
        offers.push({ ours: channel.ours, stop });
      } catch {
        // A port that cannot hand one over: the link stays on it.
        stop();
        channel.ours.close?.();
        channels = false;
        shared.postMessage({ t: "hello" });
      }
    };
    const timer = setInterval(() => {
      if (Date.now() - started <= timeout) {
        offer();
        return;
      }
      clearInterval(timer);
      stopShared();
      dropOffers();
      reject(
        new Error(
          `no hub answered on the port within ${timeout} ms: is workerTransport() set up on the other side?`,
        ),
      );
    }, OFFER_EVERY);
    offer();
  });
}

/** A port handed over in a hello: a transferred MessagePort arrives as an object that can post. */
export function offeredPort(message: Message): PortLike | undefined {
  const port = message.port as PortLike | undefined;
  return typeof port === "object" && port !== null && typeof port.postMessage === "function"
    ? port
    : undefined;
}

/** Calls `then` once when the other end of a channel closes (Node's MessagePort, or a browser's). */
export function onClosed(port: PortLike, then: () => void): void {
  const events = port as {
    once?: (event: "close", listener: () => void) => unknown;
    addEventListener?: (type: "close", listener: () => void, options: { once: boolean }) => void;
  };
  if (typeof events.once === "function") events.once("close", then);
  else events.addEventListener?.("close", then, { once: true });
}
