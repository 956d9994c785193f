/**
 * The subscriptions of one pattern: a linked list for the ungrouped ones, so that removal is
 * O(1) and safe while a publish walks the list, and small arrays for the groups.
 */

import type { Walk } from "./_unrolled.js";

// biome-ignore lint/suspicious/noExplicitAny: callbacks are typed at the public API, not here
export type AnyCallback = (data: any, envelope?: any) => unknown;

/**
 * Subscriber flags, in one small integer so that a subscriber is 8 fields, not 12. The values are
 * this type's, and each module that tests flags declares them as constants of its own, typed by
 * it, so that a copy that differs does not compile: V8 reads a constant that a module exports
 * (or imports) from the module's cell, with a test for the temporal dead zone, at each use, where
 * a module's own constant folds into the code (callgrind, with the copy of UNROLL_AFTER in bus.ts:
 * a transient subscriber 833 -> 766 instructions, subscribe + unsubscribe 551 -> 516, a join, 3
 * publishes and a leave 2917 -> 2777).
 */
export interface Flags {
  ACTIVE: 1;
  /** Neither once nor wanting the envelope: the publish loop calls it inline. */
  PLAIN: 2;
  ONCE: 4;
  /** Not a one-parameter callback: it gets the envelope, which must then be built. */
  WANTS_ENVELOPE: 8;
  /**
   * PLAIN and WANTS_ENVELOPE not known yet: reading `callback.length` costs about a sixth of a
   * subscribe, so it waits for the first call, which a transient subscriber may never get.
   */
  ARITY_UNKNOWN: 16;
}

const ACTIVE: Flags["ACTIVE"] = 1;
const PLAIN: Flags["PLAIN"] = 2;
const ONCE: Flags["ONCE"] = 4;
const WANTS_ENVELOPE: Flags["WANTS_ENVELOPE"] = 8;
const ARITY_UNKNOWN: Flags["ARITY_UNKNOWN"] = 16;

/**
 * Settles PLAIN and WANTS_ENVELOPE from the callback's declared parameters; returns the flags.
 * Leaves the list's `lone` alone: the publish loop sets it at a lone subscriber's second publish,
 * so that a transient one never stores itself there (a store of a new object into an old one
 * takes V8's slow write barrier: about a tenth of a subscribe+publish+unsubscribe, in
 * instructions counted by callgrind). No walk can hold an unsettled subscriber, so none is dropped.
 */
export function settleArity(subscriber: Subscriber): number {
  const arity = subscriber.callback.length;
  let flags = subscriber.flags & ~ARITY_UNKNOWN;
  if (arity !== 1) flags |= WANTS_ENVELOPE;
  else if ((flags & ONCE) === 0) flags |= PLAIN;
  subscriber.flags = flags;
  return flags;
}

/** What few subscribers have: a group, or an AbortSignal listener to undo. */
export interface SubscriberExtra {
  readonly group: string | undefined;
  /** Undoes side registrations (an AbortSignal listener) when the subscriber goes. */
  detach: (() => void) | undefined;
}

/** One registration, created by `subscribe`. */
export interface Subscriber {
  readonly callback: AnyCallback;
  /** Global subscription order; a publish skips subscribers newer than itself. */
  readonly seq: number;
  readonly list: SubscriberList;
  /** ACTIVE, PLAIN, ONCE, WANTS_ENVELOPE, ARITY_UNKNOWN. */
  flags: number;
  /**
   * The callback while the publish loop may call it without looking at anything else: active,
   * plain, and older than every walk in progress. Null otherwise, which sends the loop to its
   * slow branch; that one load replaces the order and flag tests on every call.
   */
  fast: AnyCallback | null;
  extra: SubscriberExtra | undefined;
  prev: Subscriber | undefined;
  next: Subscriber | undefined;
}

/** Members of one group on one pattern; each event goes to one of them, in turn. */
export interface Group {
  /** The subscriber's `group` key: `group:<name>` or `durable:<name>`. */
  readonly key: string;
  /** The name given by the user. */
  readonly name: string;
  /** A durable consumer: delivered only through the transport, never from a local publish. */
  readonly durable: boolean;
  readonly members: Subscriber[];
  cursor: number;
  /** The transport's handle for the remote queue subscription, when there is one. */
  remote: unknown;
}

/**
 * Counts the walks dropped, on every list of every bus: a walk reads it before its first call and
 * again after each, and when it moved hands the rest of its publish to the loop (see _unrolled.ts).
 */
export const walkChanges = { epoch: 0 };
/** The same object under a name of this module's own, which folds (see Flags). */
const changes = walkChanges;

/** Subscribers in all of a list's groups. */
function groupedSize(groups: Map<string, Group>): number {
  let size = 0;
  for (const group of groups.values()) size += group.members.length;
  return size;
}

/** Ungrouped subscribers on one list above which lookups by callback use an index. */
const INDEX_THRESHOLD = 32;

export class SubscriberList {
  head: Subscriber | undefined = undefined;
  /**
   * The last subscriber while there are two or more; undefined with one, which is then `head`
   * alone. So the first subscriber of an empty list is stored into the list once: each store of
   * a new object into an old one takes V8's slow write barrier (a tenth of a transient
   * subscriber's cost, counted by callgrind).
   */
  tail: Subscriber | undefined = undefined;
  /** Ungrouped subscribers. */
  ungrouped = 0;
  /**
   * The list's only subscriber when it is plain and there are no groups, else null: publish then
   * makes one call after one test, instead of testing the list's shape and the subscriber's flags.
   */
  lone: Subscriber | null = null;
  /** The unrolled walk of the list as it is now, once it has earned one (see _unrolled.ts). */
  walk: Walk | null = null;
  /** Publishes through the loop since the last change, up to UNROLL_AFTER + 1 (see _unrolled.ts). */
  publishes = 0;
  /** Groups by name; null while there are none, so the hot path tests one field. */
  groups: Map<string, Group> | null = null;
  /** The transport's handle for the remote subscription of the ungrouped subscribers. */
  remote: unknown = undefined;
  /** True once the leak warning was printed for this pattern. */
  warned = false;
  /** Empty, and kept by the registry for reuse. */
  idle = false;
  /**
   * Ungrouped subscribers by callback, in subscription order; built on the first lookup by
   * callback in a long list, so that unsubscribe(type, callback) stays O(1) there.
   */
  private byCallback: Map<AnyCallback, Subscriber[]> | null = null;

  /**
   * @param wildcard whether the pattern has wildcards: only such lists change how a publish is
   * routed, so only they make the bus look again at its fast path.
   */
  constructor(
    readonly pattern: string,
    readonly wildcard: boolean,
  ) {}

  get size(): number {
    // The loop over groups apart, so that V8 inlines this getter into subscribe's leak check.
    return this.groups === null ? this.ungrouped : this.ungrouped + groupedSize(this.groups);
  }

  /** Adds a subscriber; returns the group it joined when that group is new. */
  add(subscriber: Subscriber): Group | undefined {
    const group = subscriber.extra?.group;
    if (group !== undefined) return this.join(subscriber, group);
    const last = this.tail ?? this.head;
    subscriber.prev = last;
    if (last === undefined) this.head = subscriber;
    else {
      last.next = subscriber;
      this.tail = subscriber;
    }
    this.ungrouped++;
    // A new subscriber is not plain before its first publish: the list has no lone one now.
    this.lone = null;
    this.forgetWalk();
    if (this.byCallback !== null) {
      const same = this.byCallback.get(subscriber.callback);
      if (same === undefined) this.byCallback.set(subscriber.callback, [subscriber]);
      else same.push(subscriber);
    }
    return undefined;
  }

  /** Removes a subscriber; returns its group when that group is now empty. */
  remove(subscriber: Subscriber): Group | undefined {
    subscriber.flags &= ~ACTIVE;
    subscriber.fast = null;
    const group = subscriber.extra?.group;
    if (group !== undefined) return this.leave(subscriber, group);
    // Leave subscriber.next as it is: a publish standing on this node walks on through it.
    const { prev, next } = subscriber;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    if (this.tail === this.head) this.tail = undefined;
    this.ungrouped--;
    this.findLone();
    if (this.byCallback !== null) this.unindex(subscriber);
    return undefined;
  }

  /**
   * Sets `lone` after any change of the list's members or of a member's flags, and drops the
   * walk, which holds the members as they were.
   */
  findLone(): void {
    this.forgetWalk();
    const { head } = this;
    this.lone =
      head !== undefined && this.tail === undefined && this.groups === null && (head.flags & PLAIN) !== 0
        ? head
        : null;
  }

  /** Drops the walk, made for the members as they were, and starts counting towards the next. */
  private forgetWalk(): void {
    if (this.walk !== null) {
      this.walk = null;
      // Kept a small integer, which V8 stores and compares unboxed. It wraps after 2^30 dropped
      // walks, which one callback would have to cause for a walk to miss a change.
      changes.epoch = (changes.epoch + 1) & 0x3fffffff;
    }
    this.publishes = 0;
  }

  /** The earliest active registration of this callback, grouped or not. */
  earliest(callback: AnyCallback): Subscriber | undefined {
    let found: Subscriber | undefined;
    if (this.byCallback === null && this.ungrouped > INDEX_THRESHOLD) this.buildIndex();
    if (this.byCallback !== null) {
      found = this.byCallback.get(callback)?.[0];
    } else {
      for (let s = this.head; s !== undefined; s = s.next) {
        if (s.callback === callback) {
          found = s;
          break;
        }
      }
    }
    if (this.groups === null) return found;
    for (const group of this.groups.values()) {
      for (const member of group.members) {
        if (member.callback === callback && (found === undefined || member.seq < found.seq)) {
          found = member;
        }
      }
    }
    return found;
  }

  private buildIndex(): void {
    this.byCallback = new Map();
    for (let s = this.head; s !== undefined; s = s.next) {
      const same = this.byCallback.get(s.callback);
      if (same === undefined) this.byCallback.set(s.callback, [s]);
      else same.push(s);
    }
  }

  private unindex(subscriber: Subscriber): void {
    const same = this.byCallback?.get(subscriber.callback);
    if (same === undefined) return;
    if (same.length === 1) this.byCallback?.delete(subscriber.callback);
    else same.splice(same.indexOf(subscriber), 1);
  }

  private join(subscriber: Subscriber, name: string): Group | undefined {
    this.groups ??= new Map();
    this.lone = null;
    // A walk calls the ungrouped only: a list with groups never takes one.
    this.forgetWalk();
    const existing = this.groups.get(name);
    if (existing !== undefined) {
      existing.members.push(subscriber);
      return undefined;
    }
    const durable = name.startsWith("durable:");
    const group: Group = {
      key: name,
      name: name.slice(name.indexOf(":") + 1),
      durable,
      members: [subscriber],
      cursor: 0,
      remote: undefined,
    };
    this.groups.set(name, group);
    return group;
  }

  private leave(subscriber: Subscriber, name: string): Group | undefined {
    const group = this.groups?.get(name);
    if (group === undefined) return undefined;
    const index = group.members.indexOf(subscriber);
    if (index === -1) return undefined;
    group.members.splice(index, 1);
    // The members after it moved down one: so does the turn, which would skip one otherwise.
    if (index < group.cursor) group.cursor--;
    if (group.members.length > 0) return undefined;
    this.groups?.delete(name);
    if (this.groups?.size === 0) {
      this.groups = null;
      this.findLone();
    }
    return group;
  }
}

/**
 * The next member of a group in round-robin order; with `newest`, the next one subscribed no
 * later than that (a publish does not reach members added during it).
 */
export function pickMember(group: Group, newest = Number.POSITIVE_INFINITY): Subscriber | undefined {
  const { members } = group;
  for (let tries = members.length; tries > 0; tries--) {
    const member = members[group.cursor % members.length] as Subscriber;
    group.cursor = (group.cursor + 1) % members.length;
    if (member.seq <= newest) return member;
  }
  return undefined;
}
