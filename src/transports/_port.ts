/**
 * The worker transport's protocol over a message port: a client side that proxies HubLink
 * calls to the hub in the main thread, and a bridge there that serves one port from the hub.
 * Ports keep message order, so per-publisher order holds end to end. What one side posts in a
 * turn crosses as one batch (`Outbox`), events packed as arrays (_port-frames.ts).
 */
import { NoResponderError } from "../errors.js";
import { assertEventType, assertPattern } from "../patterns.js";
import type { WireError } from "./_codec.js";
import type { HubAnswer, HubDelivery, HubLink, HubReply } from "./_hub.js";
import { packEvent, unpackEvent } from "./_port-frames.js";

/** A Worker, a worker's `parentPort`, a MessagePort (Node or web), or anything alike. */
export interface PortLike {
  postMessage(message: unknown): void;
  on?(event: "message", listener: (message: unknown) => void): unknown;
  off?(event: "message", listener: (message: unknown) => void): unknown;
  addEventListener?(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener?(type: "message", listener: (event: { data: unknown }) => void): void;
  start?(): void;
}

/** One message of the protocol; `t` tells its kind. */
type Message = { t: string; id?: number } & Record<string, unknown>;

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

function isMessage(message: unknown): message is Message {
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

function replyError(error: unknown): WireError {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "Error", message: String(error) };
}

/** Fields each kind of message must carry, by what they must be. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  hello: [],
  pub: ["ns", "type"],
  sub: ["id", "ns", "pattern"],
  resp: ["id", "ns", "type"],
  unsub: ["id"],
  answer: ["id"],
  req: ["id", "ns", "type"],
  flush: ["id"],
};

function fieldValid(m: Message, field: string): boolean {
  const value = m[field];
  if (field === "id") return typeof value === "number";
  if (field === "ns") return typeof value === "string";
  try {
    if (field === "type") assertEventType(value);
    else assertPattern(value);
    return typeof m.group === "undefined" || typeof m.group === "string";
  } catch {
    return false;
  }
}

/**
 * True when a message from a port has the kind and fields the hub relies on: whatever a broken
 * worker posts must not throw inside the hub, which would stop it for every port.
 */
function wellFormed(m: Message): boolean {
  const fields = Object.hasOwn(REQUIRED, m.t) ? REQUIRED[m.t] : undefined;
  return fields?.every((field) => fieldValid(m, field)) === true;
}

/** Serves one port from the hub; returns the detach, which drops the port's subscriptions. */
export function bridge(hub: HubLink, port: PortLike): () => void {
  const owned = new Map<number, () => void>();
  const asks = new Map<number, (reply: HubReply) => void>();
  let nextAsk = 0;
  const outbox = new Outbox(port);
  const post = (message: Message) => outbox.post(message);
  const answerer =
    (id: number): HubAnswer =>
    (frame) =>
      new Promise((resolve) => {
        asks.set(++nextAsk, resolve);
        post({ t: "ask", id: nextAsk, responder: id, frame });
      });
  const handlers: Record<string, (m: Message) => void> = {
    hello: () => post({ t: "welcome" }),
    pub: (m) => hub.publish(m.ns as string, m.type as string, m.frame),
    sub: (m) => {
      const delivery: HubDelivery = (type, frame) =>
        outbox.post(packEvent("msg", m.id as number, type, frame) ?? { t: "msg", id: m.id, type, frame });
      owned.set(
        m.id as number,
        hub.subscribe(m.ns as string, m.pattern as string, m.group as string | undefined, delivery),
      );
    },
    resp: (m) =>
      owned.set(m.id as number, hub.respond(m.ns as string, m.type as string, answerer(m.id as number))),
    unsub: (m) => {
      owned.get(m.id as number)?.();
      owned.delete(m.id as number);
    },
    answer: (m) => {
      asks.get(m.id as number)?.(m.reply as HubReply);
      asks.delete(m.id as number);
    },
    req: (m) => {
      hub.request(m.ns as string, m.type as string, m.frame).then(
        (reply) => post({ t: "reply", id: m.id, reply }),
        (error: unknown) => post({ t: "reply", id: m.id, reply: { ok: false, error: replyError(error) } }),
      );
    },
    flush: (m) => {
      hub.flush().then(
        () => post({ t: "flushed", id: m.id }),
        () => post({ t: "flushed", id: m.id }),
      );
    },
  };
  const stop = listen(port, (m) => {
    if (wellFormed(m)) (handlers[m.t] as (m: Message) => void)(m);
    else console.warn(`[EventBus:worker] dropped a malformed port message of kind ${JSON.stringify(m.t)}`);
  });
  return () => {
    outbox.flush();
    stop();
    for (const off of owned.values()) off();
    owned.clear();
    for (const resolve of asks.values())
      resolve({ ok: false, error: { name: "TransportError", message: "the worker port was detached" } });
    asks.clear();
  };
}

/** Milliseconds a worker's flush (and so its close) waits for a hub that may be gone. */
const FLUSH_TIMEOUT = 2000;

/** The client side: HubLink calls become messages to the hub at the other end of the port. */
export class PortLink implements HubLink {
  private nextId = 0;
  private readonly deliveries = new Map<number, HubDelivery>();
  private readonly answers = new Map<number, HubAnswer>();
  private readonly waiting = new Map<number, (message: Message) => void>();
  private stop: (() => void) | undefined;
  private welcomed: (() => void) | undefined;

  private readonly outbox: Outbox;

  constructor(private readonly port: PortLike) {
    this.outbox = new Outbox(port);
  }

  /** Says hello until the hub answers: the main thread may attach the port a little later. */
  open(timeout: number): Promise<void> {
    this.stop ??= listen(this.port, (m) => this.receive(m));
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const hello = setInterval(() => {
        if (Date.now() - started > timeout) {
          clearInterval(hello);
          reject(
            new Error(
              `no hub answered on the port within ${timeout} ms: is workerTransport() set up on the other side?`,
            ),
          );
        } else this.outbox.post({ t: "hello" });
      }, 50);
      this.welcomed = () => {
        clearInterval(hello);
        resolve();
      };
      this.outbox.post({ t: "hello" });
    });
  }

  close(): void {
    this.outbox.flush();
    this.stop?.();
    this.stop = undefined;
  }

  publish(namespace: string, eventType: string, frame: unknown): void {
    this.outbox.post(
      packEvent("pub", namespace, eventType, frame) ?? { t: "pub", ns: namespace, type: eventType, frame },
    );
  }

  subscribe(
    namespace: string,
    pattern: string,
    group: string | undefined,
    delivery: HubDelivery,
  ): () => void {
    const id = ++this.nextId;
    this.deliveries.set(id, delivery);
    this.outbox.post({ t: "sub", id, ns: namespace, pattern, group });
    return () => this.drop(id);
  }

  respond(namespace: string, eventType: string, answer: HubAnswer): () => void {
    const id = ++this.nextId;
    this.answers.set(id, answer);
    this.outbox.post({ t: "resp", id, ns: namespace, type: eventType });
    return () => this.drop(id);
  }

  request(namespace: string, eventType: string, frame: unknown): Promise<HubReply> {
    return this.call({ t: "req", ns: namespace, type: eventType, frame }).then((m) => {
      const reply = m.reply as HubReply;
      if (!reply.ok && reply.error.name === "NoResponderError") throw new NoResponderError(eventType);
      return reply;
    });
  }

  /** Resolves once the hub handed out what came before, or after FLUSH_TIMEOUT when no hub answers. */
  async flush(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A hub that went away first (its bus closed, the port detached) never answers: close() must not hang.
    const gone = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_TIMEOUT);
    });
    try {
      await Promise.race([this.call({ t: "flush" }), gone]);
    } finally {
      clearTimeout(timer);
    }
  }

  private call(message: Message): Promise<Message> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.outbox.post({ ...message, id });
    });
  }

  private drop(id: number): void {
    this.deliveries.delete(id);
    this.answers.delete(id);
    this.outbox.post({ t: "unsub", id });
  }

  private receive(m: Message): void {
    const id = m.id as number;
    if (m.t === "welcome") this.welcomed?.();
    else if (m.t === "msg") this.deliveries.get(id)?.(m.type as string, m.frame);
    else if (m.t === "ask") this.ask(id, m.responder as number, m.frame);
    else if (m.t === "reply" || m.t === "flushed") {
      this.waiting.get(id)?.(m);
      this.waiting.delete(id);
    }
  }

  private ask(id: number, responder: number, frame: unknown): void {
    const answer = this.answers.get(responder);
    const reply: Promise<HubReply> =
      answer === undefined
        ? Promise.resolve({ ok: false, error: { name: "NoResponderError", message: "the responder left" } })
        : answer(frame);
    reply.then(
      (value) => this.outbox.post({ t: "answer", id, reply: value }),
      (error: unknown) =>
        this.outbox.post({ t: "answer", id, reply: { ok: false, error: replyError(error) } }),
    );
  }
}
