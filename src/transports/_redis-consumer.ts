/**
 * One group or durable subscription on the namespace's stream: a consumer group read with
 * XREADGROUP on a connection of its own (BLOCK holds it), XACK once the delivery resolved,
 * failed deliveries retried with backoff up to `maxDeliver` and then dead-lettered, and entries
 * left pending by a dead consumer taken over with XAUTOCLAIM after `ackWait`.
 */
import type { Redis } from "ioredis";
import type { Envelope } from "../envelope.js";
import { matches } from "../patterns.js";
import type { RemoteDelivery } from "../transport.js";
import { decodeStructured } from "./_redis-wire.js";

/** Stream options of `redisTransport()`. */
export interface ConsumerOptions {
  /**
   * Deliveries of one event to a group or durable subscription before it is dead-lettered.
   * @default 5
   */
  maxDeliver: number;
  /**
   * Milliseconds an entry may stay unacknowledged (its consumer died or hangs) before another
   * consumer of the group claims it with XAUTOCLAIM.
   * @default 30000
   */
  ackWait: number;
}

/** What a consumer needs from its transport. */
export interface ConsumerContext {
  readonly stream: string;
  /** This consumer's name in the group: the bus's origin, unique per bus. */
  readonly consumer: string;
  log(message: string): void;
  deadLetter(envelope: Envelope, consumer: string, deliveries: number, error: unknown): void;
  /** Creates the group again when Redis lost it (restarted without persistence). */
  rejoin(): Promise<void>;
}

type Entry = [id: string, fields: string[]];

const BATCH = 64;
const MAX_BLOCK = 1000;
const STOP_WAIT = 5000;

export class StreamConsumer {
  private stopped = false;
  private readonly retries: { id: string; due: number }[] = [];
  private lastClaim = 0;
  private running: Promise<void> | undefined;
  private current: Promise<void> | undefined;
  /** The entry being delivered, until its delivery settles. */
  private currentId: string | undefined;
  private acked: Promise<void> | undefined;

  constructor(
    private readonly connection: Redis,
    /** The consumer group: `group:<name>:<pattern>` or `durable:<name>:<pattern>`. */
    readonly group: string,
    /** The name dead letters carry. */
    private readonly name: string,
    private readonly pattern: string,
    private readonly delivery: RemoteDelivery,
    private readonly context: ConsumerContext,
    private readonly options: ConsumerOptions,
  ) {}

  start(): void {
    this.running = this.run();
  }

  /**
   * Lets the delivery in progress finish (for at most ackWait or `STOP_WAIT` ms, then it stays
   * pending for another consumer), then drops the connection, which ends a BLOCK. Returns the
   * id of a delivery still running, which must not be handed on while it may yet succeed.
   */
  async stop(): Promise<string | undefined> {
    this.stopped = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(this.options.ackWait, STOP_WAIT));
    });
    // An XACK waits in ioredis's offline queue while disconnected: then only the delivery counts.
    const settled = (this.current ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => (this.connection.status === "ready" ? this.acked : undefined));
    await Promise.race([settled, waited]);
    const running = this.currentId;
    const connected = this.connection.status === "ready";
    this.connection.disconnect();
    // A delivery that never settles keeps the loop waiting: do not wait for it beyond the limit.
    // Nor for a loop whose command waits in the offline queue: disconnect() while reconnecting
    // leaves that queue as it is, and the command pending for good.
    if (connected) await Promise.race([this.running, waited]);
    clearTimeout(timer);
    return running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.retryDue();
        await this.claimStuck();
        const reply = (await this.connection.call(
          "XREADGROUP",
          "GROUP",
          this.group,
          this.context.consumer,
          "COUNT",
          BATCH,
          "BLOCK",
          this.blockFor(),
          "STREAMS",
          this.context.stream,
          ">",
        )) as [string, Entry[]][] | null;
        await this.handleAll(reply?.[0]?.[1] ?? []);
      } catch (error) {
        if (this.stopped) return;
        const message = String(error);
        this.context.log(`group "${this.name}" on "${this.pattern}": ${message}; retrying`);
        if (message.includes("NOGROUP")) await this.context.rejoin().catch(() => undefined);
        await sleep(500);
      }
    }
  }

  private blockFor(): number {
    const next = this.retries.reduce((soonest, retry) => Math.min(soonest, retry.due), Infinity);
    return Math.max(1, Math.min(MAX_BLOCK, next - Date.now()));
  }

  /** Redelivers this consumer's failed entries whose backoff has passed (XCLAIM counts a delivery). */
  private async retryDue(): Promise<void> {
    const now = Date.now();
    const due = this.retries.filter((retry) => retry.due <= now);
    if (due.length === 0) return;
    this.retries.splice(0, this.retries.length, ...this.retries.filter((retry) => retry.due > now));
    for (const { id } of due) {
      // A minimum idle time, so that an entry XAUTOCLAIM already handed on is not taken back.
      const claimed = (await this.connection.call(
        "XCLAIM",
        this.context.stream,
        this.group,
        this.context.consumer,
        50,
        id,
      )) as Entry[];
      await this.handleAll(claimed);
    }
  }

  /** Takes over entries pending longer than ackWait at any consumer of the group. */
  private async claimStuck(): Promise<void> {
    if (Date.now() - this.lastClaim < Math.min(this.options.ackWait, 5000)) return;
    this.lastClaim = Date.now();
    const [, claimed] = (await this.connection.call(
      "XAUTOCLAIM",
      this.context.stream,
      this.group,
      this.context.consumer,
      this.options.ackWait,
      "0-0",
      "COUNT",
      BATCH,
    )) as [string, Entry[], string[]];
    await this.handleAll(claimed);
  }

  /** Entries read but not started by stop() stay pending: the group hands them on (see retire). */
  private async handleAll(entries: Entry[]): Promise<void> {
    for (const entry of entries) {
      if (this.stopped) return;
      this.currentId = entry[0];
      this.current = this.handle(entry);
      await this.current;
      this.currentId = undefined;
    }
  }

  private async handle([id, fields]: Entry): Promise<void> {
    const type = field(fields, "type");
    // Entries of other types are for other groups: acknowledged unseen.
    if (type !== undefined && !matches(this.pattern, type)) return this.ack(id);
    let envelope: Envelope;
    try {
      envelope = decodeStructured(field(fields, "event") ?? "", type).envelope;
    } catch (error) {
      this.context.log(
        `dropped a malformed entry ${id} of "${this.context.stream}" (group "${this.name}"): ${(error as Error).message}`,
      );
      return this.ack(id);
    }
    // An entry without the type field (a foreign writer) is filtered by the event's own type.
    if (type === undefined && !matches(this.pattern, envelope.type)) return this.ack(id);
    try {
      await this.delivery(envelope);
    } catch (error) {
      return this.failed(id, envelope, error);
    }
    this.ack(id);
  }

  private async failed(id: string, envelope: Envelope, error: unknown): Promise<void> {
    const pending = (await this.connection.call("XPENDING", this.context.stream, this.group, id, id, 1)) as [
      string,
      string,
      number,
      number,
    ][];
    const deliveries = pending[0]?.[3] ?? this.options.maxDeliver;
    if (deliveries < this.options.maxDeliver) {
      this.retries.push({ id, due: Date.now() + Math.min(100 * 2 ** deliveries, 5000) });
      return;
    }
    this.context.deadLetter(envelope, this.name, deliveries, error);
    this.ack(id);
  }

  /**
   * Sends XACK without waiting for its reply: the next delivery overlaps the round trip, and a
   * connection runs its commands in order. stop() waits for the last one.
   */
  private ack(id: string): void {
    this.acked = this.connection.xack(this.context.stream, this.group, id).then(
      () => undefined,
      (error: unknown) => {
        if (!this.stopped) this.context.log(`XACK of ${id} (group "${this.name}") failed: ${String(error)}`);
      },
    );
  }
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
