/**
 * Groups and durable subscriptions of one bus on the namespace's stream. A durable
 * subscription `name` on a pattern is the consumer group `durable:<name>:<pattern>`, kept
 * forever. A group is `group:<name>:<pattern>`, whose route lapses `GROUP_TTL` after its last
 * member's bus stopped refreshing it; after that, publishes skip the stream again. The pattern
 * is part of the name because a consumer group reads every routed entry and acknowledges, unseen,
 * those its pattern does not match: two patterns sharing one group would take each other's.
 */
import type { Redis } from "ioredis";
import type { Envelope } from "../envelope.js";
import type { RemoteDelivery, RemoteSubscribeOptions, RemoteSubscription } from "../transport.js";
import { type ConsumerOptions, StreamConsumer } from "./_redis-consumer.js";
import type { Route, Routes } from "./_redis-routes.js";
import type { RedisNames } from "./_redis-wire.js";

/** How long a group's route outlives the last refresh by a member's bus, in milliseconds. */
export const GROUP_TTL = 30_000;
/** Pending entries a retiring consumer hands on: its last read (64) and its retries. */
const RELEASE_BATCH = 1000;
/** The idle time handed-on entries are given: past any consumer's ackWait (24.8 days). */
const RELEASED_IDLE = 2 ** 31 - 1;

export interface GroupsContext {
  readonly command: Redis;
  readonly names: RedisNames;
  readonly routes: Routes;
  readonly origin: string;
  /** A new connection for one consumer's blocking reads. */
  connect(name: string): Promise<Redis>;
  log(message: string): void;
  deadLetter(envelope: Envelope, consumer: string, deliveries: number, error: unknown): void;
}

interface Member {
  readonly group: string;
  readonly pattern: string;
  readonly durable: boolean;
}

export class Groups {
  private readonly members = new Set<Member>();
  private readonly consumers = new Set<StreamConsumer>();
  private readonly retiring = new Set<Promise<void>>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly context: GroupsContext,
    private readonly options: ConsumerOptions,
  ) {}

  subscribe(pattern: string, options: RemoteSubscribeOptions, delivery: RemoteDelivery): RemoteSubscription {
    const durable = options.durable !== undefined;
    const name = options.durable ?? options.group ?? "";
    const member: Member = {
      group: `${durable ? "durable" : "group"}:${name}:${pattern}`,
      pattern,
      durable,
    };
    let consumer: StreamConsumer | undefined;
    let stopped = false;
    const ready = (async () => {
      await this.join(member);
      const connection = await this.context.connect(`${member.group}:${this.context.origin}`);
      if (stopped) return connection.disconnect();
      consumer = new StreamConsumer(
        connection,
        member.group,
        name,
        pattern,
        delivery,
        {
          stream: this.context.names.stream,
          consumer: this.context.origin,
          log: (message) => this.context.log(message),
          deadLetter: (...args) => this.context.deadLetter(...args),
          rejoin: () => this.join(member),
        },
        this.options,
      );
      this.members.add(member);
      this.consumers.add(consumer);
      this.beat();
      consumer.start();
    })();
    return {
      ready,
      unsubscribe: async () => {
        stopped = true;
        await ready.catch(() => undefined);
        this.members.delete(member);
        if (consumer !== undefined) await this.retire(consumer);
      },
    };
  }

  /** Stops every consumer, each after its delivery in progress, and waits for their retirement. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.members.clear();
    for (const consumer of this.consumers) void this.retire(consumer);
    await Promise.all([...this.retiring]);
  }

  /**
   * Stops a consumer, then hands on what it read and did not deliver, or removes it from its group
   * when it left nothing pending: a group would otherwise keep one consumer per bus ever started.
   */
  private retire(consumer: StreamConsumer): Promise<void> {
    this.consumers.delete(consumer);
    const { command, names, origin } = this.context;
    const retired = (async () => {
      const running = await consumer.stop();
      if (command.status !== "ready") return;
      const pending = (await command.call(
        "XPENDING",
        names.stream,
        consumer.group,
        "-",
        "+",
        RELEASE_BATCH,
        origin,
      )) as [id: string, ...unknown[]][];
      if (pending.length === 0) {
        await command.call("XGROUP", "DELCONSUMER", names.stream, consumer.group, origin);
        return;
      }
      // Entries stay with their consumer until another claims them, which XAUTOCLAIM does only
      // after ackWait of idleness: marked idle that long now, they go on at the next claim (a
      // consumer's first read, else within 5 s), not ackWait after a clean shutdown. JUSTID: not
      // counted as a delivery. A delivery still running is left to its ackWait.
      const release = pending.map(([id]) => id).filter((id) => id !== running);
      if (release.length > 0) {
        await command.call(
          "XCLAIM",
          names.stream,
          consumer.group,
          origin,
          0,
          ...release,
          "IDLE",
          RELEASED_IDLE,
          "JUSTID",
        );
      }
    })().catch((error: unknown) => this.context.log(`group "${consumer.group}" not left: ${String(error)}`));
    this.retiring.add(retired);
    void retired.finally(() => this.retiring.delete(retired));
    return retired;
  }

  private join(member: Member): Promise<void> {
    return this.context.routes.join(this.context.command, member.group, this.route(member));
  }

  private route(member: Member): Route {
    return { pattern: member.pattern, expires: member.durable ? 0 : Date.now() + GROUP_TTL };
  }

  /** Keeps the routes of this bus's groups from lapsing while it has members in them. */
  private beat(): void {
    if (this.heartbeat !== undefined) return;
    this.heartbeat = setInterval(() => {
      for (const member of this.members) {
        if (member.durable) continue;
        this.context.routes
          .refresh(this.context.command, member.group, this.route(member))
          .catch((error: unknown) =>
            this.context.log(`group "${member.group}" not refreshed: ${String(error)}`),
          );
      }
    }, GROUP_TTL / 3);
    this.heartbeat.unref();
  }
}
