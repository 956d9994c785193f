/**
 * Which events go to the namespace's stream. A plain publish is one PUBLISH; only an event
 * whose type matches the pattern of some group or durable subscription is also added to the
 * stream. The subscriptions (routes) live in a Redis hash; each bus keeps a copy, loaded on
 * connect and updated by the announcements on the hash's channel.
 */
import type { Redis } from "ioredis";
import { matches } from "../patterns.js";
import type { RedisNames } from "./_redis-wire.js";

/** A group or durable subscription: its pattern, and when it lapses (0: never). */
export interface Route {
  readonly pattern: string;
  readonly expires: number;
}

/** Stores an event in the stream unless its id was stored within the dedupe window. */
const STORE = `
if tonumber(ARGV[2]) > 0 and not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[3], 'event', ARGV[4])
`;

/** See `Routes.join`; a route value is "<expires ms> <pattern>", 0 for a durable one. */
const JOIN = `
local before = redis.call('HGET', KEYS[2], ARGV[1])
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
if type(created) == 'table' and created.err then
  if not string.find(created.err, 'BUSYGROUP') then return created end
  local expires = tonumber(string.match(ARGV[2], '^(%d+)'))
  local lapsed = before == false or (tonumber(string.match(before, '^(%d+)')) or 0) < tonumber(ARGV[3])
  if expires ~= 0 and lapsed then redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], '$') end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[4])
return 1
`;

type JoinCommand = (
  stream: string,
  routes: string,
  group: string,
  route: string,
  now: number,
  announcement: string,
) => Promise<number>;

type StoreCommand = (
  stream: string,
  seen: string,
  maxLength: number,
  window: number,
  type: string,
  event: string,
) => Promise<string | null>;

export function encodeRoute(route: Route): string {
  return `${route.expires} ${route.pattern}`;
}

export function decodeRoute(value: string): Route | undefined {
  const space = value.indexOf(" ");
  const expires = Number(value.slice(0, space));
  if (space < 1 || !Number.isFinite(expires)) return undefined;
  return { pattern: value.slice(space + 1), expires };
}

/** True when route a lapses later than b (0: never). */
function outlives(a: Route, b: Route): boolean {
  return b.expires !== 0 && (a.expires === 0 || a.expires > b.expires);
}

export class Routes {
  private readonly routes = new Map<string, Route>();
  /** Loads of the hash in flight, and the routes learnt meanwhile, which the snapshot may predate. */
  private loading = 0;
  private readonly learntWhileLoading = new Map<string, Route>();
  /** Per event type, when its routing lapses (0: never, -1: not routed); cleared on any change. */
  private readonly byType = new Map<string, number>();

  constructor(
    private readonly names: RedisNames,
    private readonly options: { readonly maxLength: number; readonly duplicateWindow: number },
  ) {}

  /** Registers the store script on the connection that publishes. */
  static define(connection: Redis): void {
    connection.defineCommand("agentBusStore", { numberOfKeys: 2, lua: STORE });
    connection.defineCommand("agentBusJoin", { numberOfKeys: 2, lua: JOIN });
  }

  /** True when some group or durable subscription wants events of this type. */
  wanted(eventType: string): boolean {
    if (this.routes.size === 0) return false;
    let expires = this.byType.get(eventType);
    if (expires === undefined) {
      expires = -1;
      for (const route of this.routes.values()) {
        if (!matches(route.pattern, eventType)) continue;
        if (route.expires === 0) {
          expires = 0;
          break;
        }
        expires = Math.max(expires, route.expires);
      }
      // Bounded: a namespace with endless distinct types must not grow this without limit.
      if (this.byType.size >= 10_000) this.byType.clear();
      this.byType.set(eventType, expires);
    }
    return expires === 0 || expires > Date.now();
  }

  /** Adds the event to the stream (at most once per id within the dedupe window). */
  store(connection: Redis, eventId: string, eventType: string, event: string): Promise<string | null> {
    const store = (connection as unknown as { agentBusStore: StoreCommand }).agentBusStore;
    const { stream } = this.names;
    const { maxLength, duplicateWindow } = this.options;
    return store.call(
      connection,
      stream,
      this.names.seen(eventId),
      maxLength,
      duplicateWindow,
      eventType,
      event,
    );
  }

  /** Takes a route from an announcement or the hash; a malformed one is ignored. */
  apply(group: string, value: string | null): void {
    const route = value === null ? undefined : decodeRoute(value);
    if (route === undefined) this.routes.delete(group);
    else {
      this.routes.set(group, route);
      if (this.loading > 0) this.learntWhileLoading.set(group, route);
    }
    this.byType.clear();
  }

  /**
   * Replaces every route with the hash's content, keeping what was announced or joined while
   * the hash was read: the reply and an announcement come on different connections, and a
   * snapshot taken just before a group (re)joined must not erase it (after a Redis restart
   * without persistence, that left a publisher never storing a durable group's events).
   */
  async load(connection: Redis): Promise<void> {
    this.loading++;
    try {
      const all = await connection.hgetall(this.names.routes);
      this.routes.clear();
      // Not through `apply`, which would count the snapshot itself as learnt meanwhile.
      for (const [group, value] of Object.entries(all)) {
        const route = decodeRoute(value);
        if (route !== undefined) this.routes.set(group, route);
      }
      for (const [group, route] of this.learntWhileLoading) {
        const loaded = this.routes.get(group);
        if (loaded === undefined || outlives(route, loaded)) this.routes.set(group, route);
      }
      this.byType.clear();
    } finally {
      if (--this.loading === 0) this.learntWhileLoading.clear();
    }
  }

  /**
   * Joins a consumer group and announces its route, atomically: creates the group at the
   * stream's end, or, for a group whose route lapsed (nobody was in it), moves it to the end so
   * that it does not receive what was published while it had no members.
   */
  async join(connection: Redis, group: string, route: Route): Promise<void> {
    const value = encodeRoute(route);
    this.apply(group, value);
    const join = (connection as unknown as { agentBusJoin: JoinCommand }).agentBusJoin;
    const announcement = JSON.stringify({ group, route: value });
    await join.call(connection, this.names.stream, this.names.routes, group, value, Date.now(), announcement);
  }

  /** Extends a group's route (a heartbeat) and announces it. */
  async refresh(connection: Redis, group: string, route: Route): Promise<void> {
    const value = encodeRoute(route);
    this.apply(group, value);
    await connection.hset(this.names.routes, group, value);
    await connection.publish(this.names.routes, JSON.stringify({ group, route: value }));
  }

  /** Applies an announcement read from the routes channel. */
  heard(message: string): void {
    try {
      const { group, route } = JSON.parse(message) as { group?: unknown; route?: unknown };
      if (typeof group === "string") this.apply(group, typeof route === "string" ? route : null);
    } catch {
      // Not ours: the channel name is namespaced, nothing else should write there.
    }
  }
}
