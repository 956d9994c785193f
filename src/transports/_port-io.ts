/**
 * Messages over a port: what one side posts in a turn crosses as one batch (`Outbox`), events
 * packed as arrays (_port-frames.ts), and `listen` reads both back as single messages.
 */
import { unpackEvent } from "./_port-frames.js";

/** A Worker, a worker's `parentPort`, a MessagePort (Node or web), or anything alike. */
export interface PortLike {
  /** `transfer`: ports handed over with the message (a link's own channel, see _port-hello.ts). */
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on?(event: "message", listener: (message: unknown) => void): unknown;
  off?(event: "message", listener: (message: unknown) => void): unknown;
  addEventListener?(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener?(type: "message", listener: (event: { data: unknown }) => void): void;
  start?(): void;
  /** A MessagePort's: ends the channel, and the other side hears "close" (in Node). */
  close?(): void;
  /** A Node MessagePort's: lets the thread exit while the port is open. */
  unref?(): void;
}

/** One message of the protocol; `t` tells its kind. */
export type Message = { t: string; id?: number } & Record<string, unknown>;

/**
 * Messages posted to one port within a turn, sent as one batch when the turn's microtasks run:
 * a postMessage costs far more than cloning one more small message into it (one worker, 128 B
 * events: see docs/bench-transports.md). Every kind goes through it, so the order on the port is
 * the order of the posts. A batch of one goes as the message itself.
 */
export class Outbox {
  private pending: (Message | unknown[])[] = [];

  constructor(private readonly port: PortLike) {}

  post(message: Message | unknown[]): void {
    const count = this.pending.push(message);
    if (count === 1) queueMicrotask(this.flush);
    // A publisher that never yields still hands its events over, in batches of a bounded size.
    else if (count >= MAX_BATCH) this.flush();
  }

  /** Posts what is pending now (a bus closing, or a batch full). */
  readonly flush = (): void => {
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    try {
      this.port.postMessage(items.length === 1 ? items[0] : { t: BATCH, items });
    } catch {
      // A message the port cannot clone must not take the others with it: each goes alone, and
      // only the ones that cannot are reported (a posted message has no caller left to throw to).
      for (const item of items) {
        try {
          this.port.postMessage(item);
        } catch (error) {
          console.warn(
            `[EventBus:worker] dropped a ${JSON.stringify(Array.isArray(item) ? item[0] : item.t)} port message: ${String(error)}`,
          );
        }
      }
    }
  };
}

/** Kind of the message that carries several. */
const BATCH = "batch";
/** Messages in one batch at most: a cap on what one clone holds and the wait of its first. */
export const MAX_BATCH = 512;

export function isMessage(message: unknown): message is Message {
  return typeof message === "object" && message !== null && typeof (message as Message).t === "string";
}

/**
 * Listens to a port, a batch read as the messages it holds; returns the removal. A handler that
 * throws on one message is reported and the next ones still come: the port serves on.
 */
export function listen(port: PortLike, handler: (message: Message) => void): () => void {
  const handle = (message: Message) => {
    try {
      handler(message);
    } catch (error) {
      console.error(`[EventBus:worker] handling a ${JSON.stringify(message.t)} port message failed:`, error);
    }
  };
  const one = (message: unknown) => {
    if (Array.isArray(message)) {
      const unpacked = unpackEvent(message);
      if (unpacked !== undefined) handle(unpacked as Message);
    } else if (isMessage(message)) handle(message);
  };
  const onMessage = (message: unknown) => {
    if (isMessage(message) && message.t === BATCH) {
      if (Array.isArray(message.items)) for (const item of message.items) one(item);
    } else one(message);
  };
  if (typeof port.on === "function") {
    port.on("message", onMessage);
    return () => port.off?.("message", onMessage);
  }
  const onEvent = (event: { data: unknown }) => onMessage(event.data);
  port.addEventListener?.("message", onEvent);
  port.start?.();
  return () => port.removeEventListener?.("message", onEvent);
}
