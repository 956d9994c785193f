/**
 * Where subscriptions live: exact types in a map, wildcard patterns in a trie, and a cache of the
 * lists each published type reaches, so that a publish costs one map lookup however many
 * patterns exist.
 */
import { SubscriberList } from "./_subscribers.js";
import { assertEventType, assertPattern, isPattern, PatternTrie } from "./patterns.js";

const NO_ROUTE: readonly SubscriberList[] = Object.freeze([]);
/** Distinct published types remembered; the cache starts over past this. */
const ROUTE_CACHE_LIMIT = 10_000;
/** Empty exact-type lists kept for reuse before a sweep forgets them. */
const IDLE_LIMIT = 1024;

export class SubscriptionRegistry {
  /** Lists of exact types. */
  readonly exact = new Map<string, SubscriberList>();
  /**
   * The same lists in a prototype-less object, for the hot paths: a keyed property load is
   * cheaper than Map#get in V8 (one-listener publish 90 → 170 M/s in bench/). Made with
   * setPrototypeOf rather than Object.create(null), which V8 starts in its slower dictionary
   * mode even for a few keys.
   */
  readonly byType: Record<string, SubscriberList | undefined> = Object.setPrototypeOf({}, null);
  private readonly wildcards = new Map<string, SubscriberList>();
  private readonly trie = new PatternTrie<SubscriberList>();
  /** Route per published type; doubles as the set of types already validated. */
  private routes: Record<string, readonly SubscriberList[] | undefined> = Object.setPrototypeOf({}, null);
  private routeCount = 0;
  /** Exact-type lists that lost their last subscriber but are kept, see `drop`. */
  private idle = 0;

  get hasPatterns(): boolean {
    return this.trie.size > 0;
  }

  /** The list of exactly this type or pattern, if it has subscribers (or is idle). */
  find(pattern: string): SubscriberList | undefined {
    // Not a string: no list, and no toString() of a caller's object run as a property key.
    if (typeof pattern !== "string") return undefined;
    return this.byType[pattern] ?? this.wildcards.get(pattern);
  }

  /** The list of a type or pattern, validated and created when new. */
  obtain(pattern: string): SubscriberList {
    const existing = this.find(pattern);
    if (existing !== undefined) {
      // `=== true`: cheaper in V8 than a bare test of a boolean field (see EventBus.subscribe).
      if (existing.idle === true) {
        existing.idle = false;
        this.idle--;
      }
      return existing;
    }
    assertPattern(pattern);
    const list = new SubscriberList(pattern, isPattern(pattern));
    if (list.wildcard) {
      this.wildcards.set(pattern, list);
      this.trie.set(pattern, list);
      this.forgetRoutes();
    } else {
      this.exact.set(pattern, list);
      this.byType[pattern] = list;
      this.forgetRoute(pattern);
    }
    return list;
  }

  /**
   * Lets go of a list that lost its last subscriber. An exact type's list is kept idle, so that a
   * transient subscriber (subscribe, publish, unsubscribe, as a request does) costs no validation
   * and no map churn; idle lists are swept once they are many. A pattern's list goes at once, so
   * that publishes stop matching it.
   */
  drop(list: SubscriberList): void {
    const { pattern } = list;
    // An exact list with subscribers is always the one its type maps to: only idle ones are swept.
    if (!list.wildcard) {
      if (list.idle) return;
      list.idle = true;
      if (++this.idle > IDLE_LIMIT && this.idle * 2 > this.exact.size) this.sweep();
    } else if (this.wildcards.get(pattern) === list) {
      this.wildcards.delete(pattern);
      this.trie.delete(pattern);
      this.forgetRoutes();
    }
  }

  /** The lists receiving an event type: the exact one and every matching pattern's. */
  route(eventType: string): readonly SubscriberList[] {
    // A non-string must reach newRoute's validation, not a cached route of its string form.
    const cached = typeof eventType === "string" ? this.routes[eventType] : undefined;
    return cached !== undefined ? cached : this.newRoute(eventType);
  }

  /** `route` for a type not in the cache: apart, so that the cached case inlines into publish. */
  private newRoute(eventType: string): readonly SubscriberList[] {
    assertEventType(eventType);
    const exact = this.byType[eventType];
    const lists = this.trie.size === 0 ? [] : this.trie.match(eventType);
    if (exact !== undefined) lists.unshift(exact);
    const route = lists.length === 0 ? NO_ROUTE : lists;
    if (this.routeCount >= ROUTE_CACHE_LIMIT) this.forgetRoutes();
    this.routes[eventType] = route;
    this.routeCount++;
    return route;
  }

  /** Every list with subscribers, exact types first. */
  lists(): SubscriberList[] {
    return [...this.exact.values(), ...this.wildcards.values()].filter((list) => !list.idle);
  }

  /** The types and patterns that have subscribers. */
  patterns(): string[] {
    return this.lists().map((list) => list.pattern);
  }

  private sweep(): void {
    for (const [pattern, list] of this.exact) {
      if (!list.idle) continue;
      this.exact.delete(pattern);
      delete this.byType[pattern];
      this.forgetRoute(pattern);
    }
    this.idle = 0;
  }

  private forgetRoute(eventType: string): void {
    if (this.routes[eventType] === undefined) return;
    delete this.routes[eventType];
    this.routeCount--;
  }

  private forgetRoutes(): void {
    if (this.routeCount === 0) return;
    this.routes = Object.setPrototypeOf({}, null);
    this.routeCount = 0;
  }

  clear(): void {
    this.forgetRoutes();
  }
}
