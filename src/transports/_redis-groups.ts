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
   * Stops a consumer, then removes it from its group unless it left entries pending (another
   * consumer claims those after ackWait): a group would otherwise keep one consumer per bus ever started.
   */
  private retire(consumer: StreamConsumer): Promise<void> {
    this.consumers.delete(consumer);
    const { command, names, origin } = this.context;
    const retired = (async () => {
      await consumer.stop();
      if (command.status !== "ready") return;
      const pending = (await command.call(
        "XPENDING",
        names.stream,
        consumer.group,
        "-",
        "+",
        1,
        origin,
      )) as [];
      if (pending.length === 0)
        await command.call("XGROUP", "DELCONSUMER", names.stream, consumer.group, origin);
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
