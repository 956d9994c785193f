/**
 * The worker transport's protocol over a message port: a client side that proxies HubLink
 * calls to the hub in the main thread, and a bridge there that serves one port from the hub.
 * Ports keep message order, so per-publisher order holds end to end. A worker's link talks over
 * a channel of its own (_port-hello.ts); the messages cross in batches (_port-io.ts).
 */
import { NoResponderError } from "../errors.js";
import { assertEventType, assertPattern } from "../patterns.js";
import type { WireError } from "./_codec.js";
import type { HubAnswer, HubDelivery, HubLink, HubReply } from "./_hub.js";
import { packEvent } from "./_port-frames.js";
import { offeredPort, onClosed, shakeHands } from "./_port-hello.js";
import { listen, type Message, Outbox, type PortLike } from "./_port-io.js";

export type { PortLike } from "./_port-io.js";

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

/**
 * Serves one port from the hub; returns the detach, which drops the port's subscriptions.
 * @param own whether the port is a link's own channel; otherwise it may carry the program's own
 * messages too, and those (kinds the protocol does not have) are left alone without a word
 */
export function bridge(hub: HubLink, port: PortLike, own = false): () => void {
  const owned = new Map<number, () => void>();
  /** Channels of their own that links opened through this port, each served by a bridge too. */
  const channels = new Map<PortLike, () => void>();
  const serveChannel = (channel: PortLike) => {
    const detach = bridge(hub, channel, true);
    channels.set(channel, detach);
    // The link closed it (its bus closed, its thread ended): its subscriptions go with it.
    onClosed(channel, () => {
      channels.delete(channel);
      detach();
    });
    // The Worker keeps this thread alive while it runs; its channel need not (nor after unref()).
    channel.unref?.();
    channel.postMessage({ t: "welcome" });
  };
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
    hello: (m) => {
      const channel = offeredPort(m);
      if (channel === undefined) post({ t: "welcome" });
      else serveChannel(channel);
    },
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
    else if (own || Object.hasOwn(REQUIRED, m.t))
      console.warn(`[EventBus:worker] dropped a malformed port message of kind ${JSON.stringify(m.t)}`);
  });
  return () => {
    outbox.flush();
    stop();
    for (const [channel, detach] of channels) {
      detach();
      channel.close?.();
    }
    channels.clear();
    for (const off of owned.values()) off();
    owned.clear();
    for (const resolve of asks.values())
      resolve({ ok: false, error: { name: "TransportError", message: "the worker port was detached" } });
    asks.clear();
  };
}

/** The answer to a call the hub will never answer: its end of the channel closed. */
function hubGoneReply(id: number): Message {
  const error = { name: "TransportError", message: "the hub closed this worker's channel (its bus closed)" };
  return { t: "reply", id, reply: { ok: false, error } };
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
  /** The port the link talks over: the shared one until a hub welcomes a channel of its own. */
  private port: PortLike;
  private outbox: Outbox;
  private ownChannel = false;
  private closing = false;
  /** The hub's end of the own channel closed: nothing will answer any more. */
  private hubGone = false;

  /** @param gone called when the hub's end of the link's own channel closes first */
  constructor(
    private readonly shared: PortLike,
    private readonly gone: () => void = () => undefined,
  ) {
    this.port = shared;
    this.outbox = new Outbox(shared);
  }

  /** Says hello until a hub answers (the main thread may attach the port a little later). */
  async open(timeout: number): Promise<void> {
    if (this.stop !== undefined) return;
    const { port, stop, own } = await shakeHands(this.shared, timeout, (m) => this.receive(m));
    this.port = port;
    this.outbox = new Outbox(port);
    this.stop = stop;
    this.ownChannel = own;
    // Closing one end closes both: only a close the link did not start is the hub going away.
    if (own)
      onClosed(port, () => {
        this.hubGone = true;
        // Nothing will answer the requests in flight: they fail now, not at their timeout.
        for (const [id, settle] of this.waiting) settle(hubGoneReply(id));
        this.waiting.clear();
        if (!this.closing) this.gone();
      });
  }

  close(): void {
    this.closing = true;
    this.outbox.flush();
    this.stop?.();
    this.stop = undefined;
    if (this.ownChannel) this.port.close?.();
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
    if (this.hubGone) return;
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
    if (this.hubGone) return Promise.resolve(hubGoneReply(id));
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
    if (m.t === "msg") this.deliveries.get(id)?.(m.type as string, m.frame);
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
