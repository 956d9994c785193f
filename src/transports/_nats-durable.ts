/**
 * Durable subscriptions on JetStream: a stream per namespace (created when missing), a durable
 * consumer per name, ack after the callback succeeded, redelivery up to `maxDeliver`, then a
 * `bus.deadletter` event carrying the error. Also the acknowledged publisher for `acks: true`.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { shownValue } from "../_checks.js";
import { within } from "../_within.js";
import type { Envelope } from "../envelope.js";
import { TransportError } from "../errors.js";
import type { RemoteDelivery, RemoteSubscription, TransportContext } from "../transport.js";
import { attributesOf, decodeFrame, encodeFrame, isOtherNamespaceEvent, type WireHeaders } from "./_codec.js";
import { createDeadLetter } from "./_deadletter.js";
import { headerOf, type NatsModules, toHeaders } from "./_nats-wire.js";

/** JetStream options of `natsTransport()`. */
export interface DurableOptions {
  /**
   * Name of the namespace's JetStream stream (subjects `<namespace>.>`).
   * @default the namespace with dots replaced by "_"
   */
  stream: string;
  /**
   * Deliveries of one event to a durable subscription before it is dead-lettered.
   * @default 5
   */
  maxDeliver: number;
  /**
   * Milliseconds the server waits for an ack before redelivering.
   * @default 30000
   */
  ackWait: number;
  /**
   * Publish through JetStream and wait for its ack, resending in order until acknowledged
   * (the event id is the message id, so resends are dropped as duplicates): nothing published
   * is lost while the server restarts. Off: core NATS publishes, stored if the stream exists.
   * @default false
   */
  acks: boolean;
}

interface Jet {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly AckPolicy: { Explicit: "explicit" };
  readonly DeliverPolicy: { New: "new" };
}

interface Pending {
  readonly subject: string;
  readonly headers: WireHeaders;
  readonly body: Uint8Array;
  readonly id: string;
}

/** Longest a stopping subscription waits for its delivery in progress, in milliseconds. */
const STOP_WAIT = 5000;
/**
 * Milliseconds before the server redelivers what a stopped subscription gave back. It must
 * outlast the closing connection, which keeps its pull request until it is gone: a close stalled
 * past the delay (a busy event loop) gets the events back itself and loses them to ackWait. With
 * a 1.5 s stall injected just after the give-back, 1 s lost events in 14 of 18 runs, 3 s in 1.
 */
const RETURN_DELAY = 3000;

export class Durable {
  readonly stream: string;
  private readonly maxDeliver: number;
  private readonly ackWait: number;
  private nc: NatsConnection | undefined;
  private client: NatsModules | undefined;
  private context: TransportContext | undefined;
  private jet: Promise<Jet> | undefined;
  private readonly consumers = new Set<{ stop(): void }>();
  /** Stopped subscriptions finishing their delivery in progress (see drain). */
  private readonly draining = new Set<Promise<void>>();
  private connected: () => boolean = () => false;
  private readonly unacked: Pending[] = [];
  private sending = false;
  private closed = false;

  constructor(
    private readonly namespace: string,
    options: Partial<DurableOptions>,
  ) {
    const { maxDeliver = 5, ackWait = 30_000 } = options;
    if (!Number.isInteger(maxDeliver) || maxDeliver < 1)
      throw new TypeError(`maxDeliver must be a positive integer, got ${shownValue(maxDeliver)}`);
    if (!(ackWait > 0))
      throw new TypeError(`ackWait must be a positive number of milliseconds, got ${shownValue(ackWait)}`);
    this.stream = options.stream ?? namespace.replaceAll(".", "_");
    this.maxDeliver = maxDeliver;
    this.ackWait = ackWait;
  }

  /** @param connected whether the connection is up now: a stop while it is down waits for no ack */
  attach(nc: NatsConnection, client: NatsModules, context: TransportContext, connected: () => boolean): void {
    this.connected = connected;
    this.nc = nc;
    this.client = client;
    this.context = context;
  }

  subscribe(pattern: string, name: string, delivery: RemoteDelivery): RemoteSubscription {
    let stopped = false;
    let messages: { stop(): void } | undefined;
    const created = this.ensureConsumer(name, pattern);
    const run = async () => {
      const { js } = await created;
      // Once more after each loss the server recovered from (see recoverOnLoss).
      for (let again = true; again && !stopped; ) {
        const consumer = await js.consumers.get(this.stream, name);
        if (stopped) return;
        const iterator = await consumer.consume({ max_messages: 64 });
        messages = iterator;
        this.consumers.add(iterator);
        const loss = { recovered: false };
        void this.recoverOnLoss(iterator, name, pattern, loss);
        for await (const msg of iterator) {
          // Fetched but not started when the subscription stopped (stop() lets the iterator
          // yield what it holds): back to the server, for the next consumer, rather than
          // redelivered after ackWait. After a delay: at once, the server hands them straight
          // back to this connection's pull request, which it keeps until the connection closes.
          if (stopped) msg.nak(RETURN_DELAY);
          else await this.handle(msg, name, delivery);
        }
        this.consumers.delete(iterator);
        again = loss.recovered;
      }
    };
    const finished = run().catch((error: unknown) =>
      this.context?.log(`durable "${name}" on "${pattern}" stopped: ${String(error)}`),
    );
    return {
      ready: created.then(() => undefined),
      unsubscribe: () => {
        stopped = true;
        messages?.stop();
        if (messages !== undefined) this.consumers.delete(messages);
        return this.drain(finished);
      },
    };
  }

  /**
   * Waits for a stopped subscription's delivery in progress to be acknowledged and the rest to be
   * given back, for at most ackWait or `STOP_WAIT` ms (a delivery still running then is redelivered
   * after ackWait); close() waits for every such drain before the connection goes.
   */
  private drain(finished: Promise<unknown>): Promise<void> {
    // Down, the delivery in progress could not be acknowledged, nor the rest given back.
    if (!this.connected()) return Promise.resolve();
    const drained = within(finished, Math.min(this.ackWait, STOP_WAIT)).then(() => undefined);
    this.draining.add(drained);
    void drained.finally(() => this.draining.delete(drained));
    return drained;
  }

  /** Queues an acknowledged publish; resends in order until JetStream stored it. */
  publish(subject: string, headers: WireHeaders, body: Uint8Array, id: string): void {
    this.unacked.push({ subject, headers, body, id });
    if (!this.sending) void this.pump();
  }

  /** Resolves once every acknowledged publish was stored, then stops the consumers and waits for their drains. */
  async close(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.unacked.length > 0 && Date.now() < deadline) await sleep(20);
    this.closed = true;
    if (this.unacked.length > 0)
      this.context?.log(`closed with ${this.unacked.length} publishes JetStream never acknowledged`);
    for (const consumer of this.consumers) consumer.stop();
    this.consumers.clear();
    await Promise.all([...this.draining]);
  }

  /** One batch in flight at a time: on any failure the batch is resent from its first event. */
  private async pump(): Promise<void> {
    this.sending = true;
    try {
      const { js } = await this.jetstream();
      await this.ensureStream();
      while (this.unacked.length > 0 && !this.closed) {
        const batch = this.unacked.slice(0, 256);
        const make = this.modules().headers;
        const results = await Promise.allSettled(
          batch.map((p) =>
            js.publish(p.subject, p.body, {
              msgID: p.id,
              headers: toHeaders(make, p.headers),
              timeout: 2000,
            }),
          ),
        );
        const stored = results.findIndex((result) => result.status === "rejected");
        this.unacked.splice(0, stored === -1 ? batch.length : stored);
        if (stored !== -1) await sleep(250);
      }
    } catch (error) {
      if (this.closed) return;
      this.context?.log(`acknowledged publishing paused: ${String(error)}`);
      setTimeout(() => void this.pump(), 500);
      return;
    }
    this.sending = false;
  }

  private async handle(msg: JsMsg, name: string, delivery: RemoteDelivery): Promise<void> {
    let envelope: Envelope;
    try {
      envelope = decodeFrame(
        msg.subject.slice(this.namespace.length + 1),
        attributesOf(headerOf(msg.headers)),
        msg.data,
      );
    } catch (error) {
      // Another namespace's event, stored in this stream because that namespace nests in this one.
      if (isOtherNamespaceEvent(error)) return msg.ack();
      this.context?.log(
        `dropped a malformed message on "${msg.subject}" (durable "${name}"): ${(error as Error).message}`,
      );
      msg.term("malformed");
      return;
    }
    try {
      await delivery(envelope);
      msg.ack();
    } catch (error) {
      const deliveries = msg.info.deliveryCount;
      if (deliveries < this.maxDeliver) return msg.nak(Math.min(100 * 2 ** deliveries, 5000));
      this.deadLetter(envelope, name, deliveries, error);
      msg.term("dead-lettered");
    }
  }

  /** Publishes `bus.deadletter` with the event, the consumer and the error. */
  private deadLetter(envelope: Envelope, consumer: string, deliveries: number, error: unknown): void {
    const letter = createDeadLetter(envelope, consumer, deliveries, error);
    // Another origin than the bus's own, so that this bus's subscribers see it too.
    const frame = encodeFrame(
      letter,
      { origin: `${this.context?.origin}:deadletter` },
      Number.POSITIVE_INFINITY,
    );
    this.nc?.publish(`${this.namespace}.bus.deadletter`, frame.body, {
      headers: toHeaders(this.modules().headers, frame.headers),
    });
    this.context?.log(
      `dead-lettered "${envelope.type}" ${envelope.id} after ${deliveries} deliveries to "${consumer}"`,
    );
  }

  /**
   * Puts back the stream or consumer the server lost (a restart with an empty store): the
   * client's consume loop would keep pulling from the old one, and nothing would arrive, silently.
   * Once they are back it sets `loss.recovered` and ends the loop, for the caller to consume
   * afresh.
   */
  private async recoverOnLoss(
    iterator: { status(): AsyncIterable<{ type: string }>; stop(): void },
    name: string,
    pattern: string,
    loss: { recovered: boolean },
  ): Promise<void> {
    for await (const note of iterator.status()) {
      const lost =
        note.type === "stream_not_found"
          ? "stream"
          : /^consumer_(not_found|deleted)$/u.test(note.type)
            ? "consumer"
            : undefined;
      if (lost === undefined) continue;
      this.context?.log(
        `durable "${name}" on "${pattern}": its ${lost} is gone from the server (JetStream state lost?); creating it again (events published before that are not in it)`,
      );
      this.streamReady = undefined;
      try {
        await this.ensureConsumer(name, pattern);
      } catch (error) {
        // The next notification tries again.
        this.context?.log(`durable "${name}" on "${pattern}" could not be created again: ${String(error)}`);
        continue;
      }
      this.context?.log(`durable "${name}" on "${pattern}" is back`);
      loss.recovered = true;
      iterator.stop();
      return;
    }
  }

  private async ensureConsumer(name: string, pattern: string): Promise<Jet> {
    const jet = await this.jetstream();
    await this.ensureStream();
    const exists = await jet.jsm.consumers.info(this.stream, name).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await jet.jsm.consumers.add(this.stream, {
        durable_name: name,
        ack_policy: jet.AckPolicy.Explicit,
        deliver_policy: jet.DeliverPolicy.New,
        filter_subject: `${this.namespace}.${pattern}`,
        max_deliver: this.maxDeliver,
        ack_wait: this.ackWait * 1_000_000,
      });
    }
    return jet;
  }

  private streamReady: Promise<void> | undefined;

  private ensureStream(): Promise<void> {
    this.streamReady ??= this.jetstream().then(async ({ jsm }) => {
      const found = await jsm.streams.info(this.stream).then(
        () => true,
        () => false,
      );
      if (!found) await this.addStream(jsm);
    });
    this.streamReady.catch(() => {
      this.streamReady = undefined;
    });
    return this.streamReady;
  }

  private async addStream(jsm: JetStreamManager): Promise<void> {
    const subjects = `${this.namespace}.>`;
    try {
      await jsm.streams.add({ name: this.stream, subjects: [subjects] });
    } catch (error) {
      if (!/overlap/iu.test(String(error))) throw error;
      // Namespaces that nest ("a" and "a.b") share subjects, and a server holds one stream per subject.
      throw new TransportError(
        `[EventBus:nats] cannot create the JetStream stream "${this.stream}" for "${subjects}": another stream holds some of them: the stream of a namespace this one nests in or that nests in it ("a" and "a.b"), or a stream of your own. Use namespaces that do not nest; for a stream of your own that holds "${subjects}", set the stream option to its name`,
        { cause: error },
      );
    }
  }

  private jetstream(): Promise<Jet> {
    this.jet ??= (async () => {
      const nc = this.nc;
      if (nc === undefined) throw new TransportError("[EventBus:nats] not connected");
      let module: typeof import("@nats-io/jetstream");
      try {
        module = await import("@nats-io/jetstream");
      } catch (error) {
        throw new TransportError(
          "[EventBus:nats] durable subscriptions need JetStream's client: npm install @nats-io/jetstream",
          { cause: error },
        );
      }
      const jsm = await module.jetstreamManager(nc);
      return {
        js: module.jetstream(nc),
        jsm,
        AckPolicy: module.AckPolicy,
        DeliverPolicy: module.DeliverPolicy,
      };
    })();
    this.jet.catch(() => {
      this.jet = undefined;
    });
    return this.jet;
  }

  private modules(): NatsModules {
    if (this.client === undefined) throw new TransportError("[EventBus:nats] not connected");
    return this.client;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
