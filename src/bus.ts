/// <reference lib="esnext.disposable" preserve="true" />
/**
 * The EventBus: the seed's subscribe / unsubscribe / publish, typed, with patterns, groups,
 * async delivery, request/reply and an optional transport to other processes.
 */

import {
  assertFlag,
  assertOptions,
  assertSignal,
  assertText,
  assertTimeout,
  describeValue,
  shownValue,
} from "./_checks.js";
import { SubscriptionRegistry } from "./_registry.js";
import { Remote } from "./_remote.js";
import { Responders } from "./_responders.js";
import type { EventStream, EventStreamOptions } from "./_stream.js";
import {
  type AnyCallback,
  type Flags,
  type Group,
  pickMember,
  type Subscriber,
  type SubscriberList,
  settleArity,
  walkChanges,
} from "./_subscribers.js";
import {
  type UNROLL_AFTER as UNROLL_AFTER_EXPORTED,
  unrolledWalk,
  type Walk,
  type WalkHost,
} from "./_unrolled.js";
import { eventStream, nextEvent, type WaitSource } from "./_waiting.js";
import { createEnvelope, createIdSource, type Envelope, type PublishOptions } from "./envelope.js";
import { BusClosedError, describeError, PublishDepthError } from "./errors.js";
import type {
  AnyEvents,
  Callback,
  EventTypeOf,
  KnownPattern,
  PayloadOf,
  PublishArgs,
  ReplyOf,
  Responder,
} from "./event-map.js";
import type {
  DeliveryObserver,
  DeliveryRecord,
  DeliveryReport,
  ErrorContext,
  EventBusOptions,
  OnceOptions,
  RequestOptions,
  SubscribeOptions,
  Unsubscribe,
} from "./options.js";
import { assertEventType } from "./patterns.js";

// Constants of other modules used on the publish path, declared again as this module's own and
// typed by the originals, so that a copy that differs does not compile: an imported constant is
// read from its module's cell at each use (see Flags in _subscribers.ts).
const UNROLL_AFTER: typeof UNROLL_AFTER_EXPORTED = 2;
const ACTIVE: Flags["ACTIVE"] = 1;
const PLAIN: Flags["PLAIN"] = 2;
const ONCE: Flags["ONCE"] = 4;
const WANTS_ENVELOPE: Flags["WANTS_ENVELOPE"] = 8;
const ARITY_UNKNOWN: Flags["ARITY_UNKNOWN"] = 16;

interface AsyncTally {
  delivered: number;
  failed: number;
  readonly pending: Promise<void>[];
  /** What the first failing callback threw: a durable delivery hands it to the dead letter. */
  firstError?: { readonly error: unknown };
}

const clock: { now(): number } = globalThis.performance ?? Date;
const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for("Symbol.dispose");

function hasGroups(lists: readonly SubscriberList[]): boolean {
  for (const list of lists) if (list.groups !== null) return true;
  return false;
}

/**
 * publish's and request's attributes, checked before any callback runs so that nothing is
 * half-delivered. The test is kept small and the message built apart: V8 inlines this test into
 * a publish, and with the messages inline too, a publish with options no longer had room in V8's
 * inlining budget for its walk (3 listeners with { correlationid }: 105 instructions before the
 * check, 254 with it inline, 129 as it is).
 */
function assertPublishOptions(options: PublishOptions): void {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    refusePublishOptions(options);
  const { id, correlationid, traceparent } = options;
  if (
    (id !== undefined && (typeof id !== "string" || id === "")) ||
    (correlationid !== undefined && (typeof correlationid !== "string" || correlationid === "")) ||
    (traceparent !== undefined && (typeof traceparent !== "string" || traceparent === ""))
  )
    refusePublishOptions(options);
}

function refusePublishOptions(options: PublishOptions): never {
  assertOptions(options);
  assertText(options.id, "id");
  assertText(options.correlationid, "correlationid");
  assertText(options.traceparent, "traceparent");
  // Not reached: the test above failed on one of these, and its check has thrown.
  throw new TypeError("options must be an object of string attributes");
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * A publish/subscribe event bus.
 * @example
 * const bus = new EventBus<{ "task.completed": { taskId: number } }>();
 * bus.subscribe("task.*", (data) => console.log(data.taskId));
 * bus.publish("task.completed", { taskId: 1 });
 */
export class EventBus<Events extends object = AnyEvents, Replies extends object = Record<never, never>> {
  /** CloudEvents `source` stamped on the events this bus publishes. */
  readonly source: string;
  private readonly registry = new SubscriptionRegistry();
  private readonly responders: Responders;
  private readonly remote: Remote | undefined;
  private readonly nextId = createIdSource();
  private readonly closeHooks = new Set<() => void>();
  private readonly onError: ((error: unknown, context: ErrorContext) => void) | undefined;
  // Numbers from the start, set again by the constructor: a field declared bare starts out
  // undefined, and V8 would then test each read of it for a small integer (publish reads
  // room every time).
  private readonly maxListeners: number = 0;
  private readonly maxDepth: number = 0;
  private readonly observers: DeliveryObserver[] = [];
  /**
   * The registry's exact-type lists while there are no patterns, transport or observers, so that
   * publish may take the one-list loop at once; null otherwise. Null rather than an empty object:
   * a keyed lookup that misses still costs ~90 instructions once it has seen many types, which a
   * publish with patterns would pay before its own route lookup.
   */
  private fastTypes: Record<string, SubscriberList | undefined> | null = null;
  private seq = 0;
  /**
   * Publishes that may still nest: maxDepth less the depth, so that the guard is one load and
   * one test. While a cycle unwinds it is minus the depth, so every nested publish stops at
   * once, and it comes back to maxDepth when the outermost publish ends.
   */
  private room = 0;
  private cycleError: PublishDepthError | undefined;
  /** Every cycle's error, which `fail` does not report again. */
  private readonly cycleErrors = new WeakSet<PublishDepthError>();
  private closed = false;
  /** The rare outcomes of a call in an unrolled walk, and a list changed mid-walk, as the loop handles them. */
  private readonly walkHost: WalkHost = {
    changes: walkChanges,
    envelope: (eventType, data, options) => this.envelope(eventType, data, options),
    settleLater: (result, s, eventType, data, envelope, options) => {
      if (isThenable(result)) this.watch(result, s, eventType, data, envelope, options, undefined, -1);
    },
    caught: (error, s, eventType, data, envelope, options) => {
      // Reporting may itself throw (a closed stderr): the walk then ends, its depth given back.
      return this.failOrUnwind(error, s, eventType, data, envelope, options);
    },
    rest: (subscribers, from, eventType, data, envelope, options) => {
      try {
        for (let i = from; i < subscribers.length; i++) {
          const s = subscribers[i] as Subscriber;
          if ((s.flags & ACTIVE) !== 0)
            envelope = this.call(s, eventType, data, options, envelope, undefined);
        }
      } catch (reportError) {
        this.leave();
        throw reportError;
      }
    },
  };

  constructor(options: EventBusOptions = {}) {
    assertOptions(options);
    const { maxListeners = 100, maxPublishDepth = 32 } = options;
    if (!Number.isInteger(maxListeners) || maxListeners < 0) {
      throw new TypeError(`maxListeners must be a non-negative integer, got ${shownValue(maxListeners)}`);
    }
    if (!Number.isInteger(maxPublishDepth) || maxPublishDepth < 1) {
      throw new TypeError(`maxPublishDepth must be a positive integer, got ${shownValue(maxPublishDepth)}`);
    }
    if (options.onError !== undefined && typeof options.onError !== "function") {
      throw new TypeError(`onError must be a function, got ${describeValue(options.onError)}`);
    }
    if (options.onStatus !== undefined && typeof options.onStatus !== "function") {
      throw new TypeError(`onStatus must be a function, got ${describeValue(options.onStatus)}`);
    }
    assertText(options.source, "source");
    this.maxListeners = maxListeners;
    this.maxDepth = this.room = maxPublishDepth;
    this.onError = options.onError;
    const origin = this.nextId();
    this.source = options.source ?? `agent-bus/${origin.slice(0, 8)}`;
    this.remote =
      options.transport === undefined
        ? undefined
        : new Remote(options.transport, origin, this.nextId.prefix, {
            deliver: (list, envelope) => this.deliverRemote(list, envelope),
            deliverGroup: (group, envelope) => this.deliverGroup(group, envelope),
            status: options.onStatus,
          });
    this.responders = new Responders(this.remote);
    this.updateFastTypes();
  }

  /**
   * Registers a callback for an event type or a pattern (`task.*`, `task.>`, `>`).
   * @returns a function that removes exactly this registration.
   * @example
   * const off = bus.subscribe("task_completed", (data) => console.log(data));
   * off();
   */
  // A declared event type first: a generic key (`K extends keyof Events`) matches it where the
  // pattern signature's check cannot be worked out for a K not yet known.
  subscribe<Type extends EventTypeOf<Events>>(
    type: Type,
    callback: Callback<Events[Type]>,
    options?: SubscribeOptions,
  ): Unsubscribe;
  subscribe<Pattern extends string>(
    pattern: Pattern & KnownPattern<Events, Pattern>,
    callback: Callback<PayloadOf<Events, Pattern>>,
    options?: SubscribeOptions,
  ): Unsubscribe;
  subscribe(pattern: string, callback: Callback<never>, options?: SubscribeOptions): Unsubscribe {
    if (typeof callback !== "function") {
      throw new TypeError(`callback must be a function, got ${describeValue(callback)}`);
    }
    // `=== true`: V8 compiles a bare boolean field test to a full ToBoolean, ~5 instructions more.
    if (this.closed === true) throw new BusClosedError("subscribe");
    // Most subscribes pass no options: skip their checks outright.
    const groupKey = options === undefined ? undefined : this.subscribeOptions(options);
    const list = this.listFor(pattern);
    const once = options?.once === true;
    const subscriber: Subscriber = {
      callback: callback as AnyCallback,
      seq: ++this.seq,
      list,
      flags: ACTIVE | ARITY_UNKNOWN | (once ? ONCE : 0),
      fast: null,
      extra: groupKey === undefined ? undefined : { group: groupKey, detach: undefined },
      prev: undefined,
      next: undefined,
    };
    const newGroup = list.add(subscriber);
    if (this.remote !== undefined) {
      if (newGroup !== undefined) this.remote.watchGroup(list, newGroup, options?.durable !== undefined);
      else if (groupKey === undefined && list.ungrouped === 1) this.remote.watch(list);
    }
    if (this.maxListeners > 0 && list.size > this.maxListeners && !list.warned) this.warnLeak(list);
    if (options?.signal !== undefined) this.bindSignal(subscriber, options.signal);
    return this.unsubscriber(subscriber);
  }

  /**
   * Removes the earliest registration of the callback for this event type or pattern.
   * @returns true when one was removed; never throws.
   */
  unsubscribe(pattern: string, callback: (...args: never[]) => unknown): boolean {
    if (typeof pattern !== "string" || typeof callback !== "function") return false;
    const list = this.registry.find(pattern);
    const subscriber = list?.earliest(callback as AnyCallback);
    return subscriber === undefined ? false : this.remove(subscriber);
  }

  /**
   * Calls every matching callback synchronously, in subscription order, then returns.
   * Callback errors go to onError and never reach the publisher.
   * @example
   * bus.publish("task_completed", { task_id: 1, success: true });
   */
  publish<Type extends EventTypeOf<Events>>(eventType: Type, ...args: PublishArgs<Events[Type]>): void;
  publish(eventType: string, data?: unknown, options?: PublishOptions): void {
    // Hot path: one exact list, no patterns, groups or transport (`fastTypes` is null
    // otherwise). The list's existence also proves a string type valid, so nothing more is
    // validated here; a non-string (whose string form might name a list) goes to the validation
    // of the general path.
    const types = this.fastTypes;
    if (types !== null && typeof eventType === "string") {
      // Folds away where V8 inlines a publish that passes no options.
      if (options !== undefined) assertPublishOptions(options);
      const list = types[eventType];
      if (list !== undefined) {
        // A list with an unrolled walk: the walk, and nothing else to test (64 types × 3
        // listeners: 1.15x the rate of reaching it through `dispatchPlain`, in paired runs;
        // testing the lone and group cases first cost 3 listeners 14 %). Only a list without
        // groups has a walk: a group joining drops it.
        const walk = list.walk;
        if (walk !== null && this.room > 0) {
          this.walk(walk, eventType, data, undefined, options);
          return;
        }
        // One plain subscriber, the most common case: one call, no walk (nothing added during
        // the call could be reached anyway).
        const lone = list.lone;
        if (lone !== null && this.room > 0) {
          this.callOnly(lone, eventType, data, options);
          return;
        }
        if (list.groups === null) {
          this.publishPlain(list, eventType, data, options);
          return;
        }
      }
    }
    this.publishRouted(eventType, data, options, undefined);
  }

  /**
   * `publish` to a list without groups that has neither a walk nor a lone subscriber: out of
   * `publish` itself, so that the hot paths above stay small enough for V8 to inline.
   */
  private publishPlain(
    list: SubscriberList,
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
  ): void {
    // A new lone subscriber has its arity read here, so that a transient one takes the one-call
    // path too (its arity is settled, but `lone` waits for the loop: see settleArity).
    const only = list.head;
    if (
      only !== undefined &&
      list.tail === undefined &&
      (only.flags & ARITY_UNKNOWN) !== 0 &&
      (settleArity(only) & PLAIN) !== 0 &&
      this.room > 0
    ) {
      this.callOnly(only, eventType, data, options);
      return;
    }
    // No observer on this path, so the plain loop at once.
    this.dispatchPlain(list, eventType, data, options, undefined);
  }

  /**
   * Publishes like `publish`, then resolves once every promise a callback returned has settled.
   */
  publishAsync<Type extends EventTypeOf<Events>>(
    eventType: Type,
    ...args: PublishArgs<Events[Type]>
  ): Promise<DeliveryReport>;
  async publishAsync(eventType: string, data?: unknown, options?: PublishOptions): Promise<DeliveryReport> {
    const tally: AsyncTally = { delivered: 0, failed: 0, pending: [] };
    this.publishRouted(eventType, data, options, tally);
    await Promise.all(tally.pending);
    return { delivered: tally.delivered, failed: tally.failed };
  }

  /** Resolves with the data of the next event matching the pattern. */
  once<Type extends EventTypeOf<Events>>(type: Type, options?: OnceOptions): Promise<Events[Type]>;
  once<Pattern extends string>(
    pattern: Pattern & KnownPattern<Events, Pattern>,
    options?: OnceOptions,
  ): Promise<PayloadOf<Events, Pattern>>;
  once(pattern: string, options: OnceOptions = {}): Promise<unknown> {
    try {
      assertOptions(options);
      assertSignal(options.signal);
      if (options.timeout !== undefined) assertTimeout(options.timeout, { zero: true });
    } catch (error) {
      return Promise.reject(error);
    }
    return nextEvent(this.waitSource(), pattern, options);
  }

  /** An async iterator over the envelopes of the events matching the pattern. */
  events<Type extends EventTypeOf<Events>>(
    type: Type,
    options?: EventStreamOptions,
  ): EventStream<Events[Type]>;
  events<Pattern extends string>(
    pattern: Pattern & KnownPattern<Events, Pattern>,
    options?: EventStreamOptions,
  ): EventStream<PayloadOf<Events, Pattern>>;
  events(pattern: string, options: EventStreamOptions = {}): EventStream<unknown> {
    assertOptions(options);
    assertSignal(options.signal);
    return eventStream(this.waitSource(), pattern, options);
  }

  /**
   * Answers requests of one event type; with several responders each request goes to one, in turn.
   * @returns a function that removes this responder.
   */
  respond<Type extends EventTypeOf<Events>>(
    eventType: Type,
    responder: Responder<Events[Type], ReplyOf<Replies, Type>>,
  ): Unsubscribe {
    if (this.closed) throw new BusClosedError("respond");
    const remove = this.responders.add(eventType, responder as Responder);
    const off = () => remove();
    return Object.assign(off, { [disposeSymbol]: off }) as Unsubscribe;
  }

  /**
   * Sends data to one responder and resolves with its reply.
   * Rejects with NoResponderError when nobody answers the type, TimeoutError, or the responder's error.
   */
  request<Type extends EventTypeOf<Events>>(
    eventType: Type,
    data: Events[Type],
    options: RequestOptions = {},
  ): Promise<ReplyOf<Replies, Type>> {
    if (this.closed) return Promise.reject(new BusClosedError("request"));
    try {
      assertEventType(eventType);
      assertPublishOptions(options);
      assertSignal(options.signal);
      if (options.timeout !== undefined) assertTimeout(options.timeout, { zero: false });
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const envelope = createEnvelope(eventType, data, this.source, this.nextId(), options);
    // One signal for the caller's abort and the bus's close: either ends the wait and its timer.
    const stop = new AbortController();
    const forward = () => stop.abort(signal?.reason);
    const onClose = () => stop.abort(new BusClosedError("wait for a reply"));
    signal?.addEventListener("abort", forward, { once: true });
    this.closeHooks.add(onClose);
    const reply = this.responders.request(envelope, { timeout: options.timeout, signal: stop.signal });
    return reply.finally(() => {
      this.closeHooks.delete(onClose);
      signal?.removeEventListener("abort", forward);
    }) as Promise<ReplyOf<Replies, Type>>;
  }

  /** Number of subscriptions on exactly this type or pattern, or on all of them. */
  listenerCount(pattern?: string): number {
    if (pattern !== undefined) return this.registry.find(pattern)?.size ?? 0;
    let count = 0;
    for (const list of this.registry.lists()) count += list.size;
    return count;
  }

  /**
   * The event types and patterns that have at least one subscription: the exact types first, then
   * the patterns, each in the order they were first subscribed.
   */
  eventTypes(): string[] {
    return this.registry.patterns();
  }

  /**
   * Calls the observer after every callback call, with its duration and outcome; for metrics and
   * inspectors. A bus with observers takes its general publish path, so keep them for diagnostics.
   * @returns a function that removes the observer.
   */
  addObserver(observer: DeliveryObserver): Unsubscribe {
    if (typeof observer !== "function")
      throw new TypeError(`observer must be a function, got ${describeValue(observer)}`);
    this.observers.push(observer);
    this.updateFastTypes();
    const off = () => {
      const index = this.observers.indexOf(observer);
      if (index === -1) return false;
      this.observers.splice(index, 1);
      this.updateFastTypes();
      return true;
    };
    return Object.assign(off, { [disposeSymbol]: off }) as Unsubscribe;
  }

  /**
   * Resolves once the transport is connected and every subscription made so far is in place at
   * the broker; at once for an in-memory bus. Rejects with a TransportError naming a subscription
   * the broker refused (it is logged too), until that subscription is removed.
   */
  ready(): Promise<void> {
    return this.remote?.settled() ?? Promise.resolve();
  }

  /** Removes every subscription, ends pending waits, drains and closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.updateFastTypes();
    for (const hook of [...this.closeHooks]) hook();
    for (const list of this.registry.lists()) {
      for (let s = list.head; s !== undefined; s = s.next) this.remove(s);
      for (const group of [...(list.groups?.values() ?? [])])
        for (const s of [...group.members]) this.remove(s);
    }
    this.responders.clear();
    this.registry.clear();
    await this.remote?.close();
  }

  /** `using bus = new EventBus()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private publishRouted(
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    tally: AsyncTally | undefined,
  ): void {
    if (this.closed) throw new BusClosedError("publish");
    if (options !== undefined) assertPublishOptions(options);
    const lists = this.registry.route(eventType);
    let envelope: Envelope | undefined;
    if (this.remote !== undefined) {
      envelope = this.envelope(eventType, data, options);
      this.remote.publish(envelope);
    }
    if (lists.length === 0) return;
    const groupsAreLocal = this.remote === undefined || !this.remote.groups;
    if (groupsAreLocal && hasGroups(lists)) {
      this.dispatchMany(lists, eventType, data, options, envelope, tally);
    } else if (lists.length === 1) {
      this.dispatch(lists[0] as SubscriberList, eventType, data, options, envelope, tally);
    } else if (lists.length === 2) {
      this.dispatchPair(lists as [SubscriberList, SubscriberList], eventType, data, options, envelope, tally);
    } else {
      this.dispatchMerged(lists, eventType, data, options, envelope, tally);
    }
  }

  /** Walks one list; the plain loop of `dispatchPlain` when nothing asks for per-call bookkeeping. */
  private dispatch(
    list: SubscriberList,
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    envelope: Envelope | undefined,
    tally: AsyncTally | undefined,
  ): void {
    if (tally === undefined && this.observers.length === 0) {
      this.dispatchPlain(list, eventType, data, options, envelope);
      return;
    }
    if (this.room <= 0) throw this.depthExceeded(eventType);
    const newest = this.seq;
    this.room--;
    try {
      for (let s = list.head; s !== undefined; s = s.next) {
        // A subscriber added by a callback of this publish waits for the next one.
        if (s.seq > newest) break;
        if ((s.flags & ACTIVE) !== 0) envelope = this.call(s, eventType, data, options, envelope, tally);
      }
    } finally {
      this.leave();
    }
  }

  /**
   * The hot loop of every publish: one list, no tally, no observer. Plain subscribers are called
   * inline; the rest (once, wanting the envelope, arity not yet read) go through `call`.
   */
  private dispatchPlain(
    list: SubscriberList,
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    envelope: Envelope | undefined,
  ): void {
    if (this.room <= 0) throw this.depthExceeded(eventType);
    const walk = list.walk;
    if (walk !== null) {
      this.walk(walk, eventType, data, envelope, options);
      return;
    }
    // The walk is built at the publish that takes it, so that none is built for a list that
    // changes before it could be used. (Folding this into the test above, one call of `walk`
    // instead of two, counted 7 instructions more a publish with patterns.)
    if (++list.publishes === UNROLL_AFTER + 1) {
      const built = unrolledWalk(list);
      if (built !== null) {
        list.walk = built;
        this.walk(built, eventType, data, envelope, options);
        return;
      }
    }
    const newest = this.seq;
    this.room--;
    try {
      for (let s = list.head; s !== undefined; s = s.next) {
        const callback = s.fast;
        if (callback === null) {
          // Removed, new, or not plain: the rules, then the general call.
          if ((s.flags & ACTIVE) === 0) continue;
          // A subscriber added by a callback of this publish waits for the next one.
          if (s.seq > newest) break;
          envelope = this.call(s, eventType, data, options, envelope, undefined);
          // Only the outermost walk may mark it: an outer walk might still count it as new.
          if (this.room === this.maxDepth - 1 && (s.flags & (ACTIVE | PLAIN)) === (ACTIVE | PLAIN)) {
            s.fast = s.callback;
            // A lone subscriber's second publish: from now on `publish` calls it directly.
            if (list.tail === undefined) list.findLone();
          }
          continue;
        }
        try {
          const result = callback(data);
          if (result !== undefined && isThenable(result))
            this.watch(result, s, eventType, data, envelope, options, undefined, -1);
        } catch (error) {
          // The envelope the report built is the one later callbacks of this publish get.
          envelope = this.fail(error, s, eventType, data, envelope, options);
        }
      }
    } finally {
      this.leave();
    }
  }

  /**
   * One publish through a list's unrolled walk, the depth guard checked by the caller. No
   * try/finally for the depth (part of the 1.15x above): a walk catches every throw of a call,
   * and its ways out by a throw (`walkHost.caught`, `walkHost.rest`) give the depth back first.
   */
  private walk(
    walk: Walk,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
  ): void {
    this.room--;
    walk(this.walkHost, data, eventType, envelope, options);
    this.leave();
  }

  /**
   * The single plain subscriber of a list: `dispatch` without the walk. Its body repeats the
   * loop's inline call on purpose: sharing one method measured 10-15% slower on one listener, and
   * so did a try/finally for the depth (hence `failOrUnwind`).
   */
  private callOnly(
    s: Subscriber,
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
  ): void {
    this.room--;
    try {
      const { callback } = s;
      const result = callback(data);
      if (result !== undefined && isThenable(result))
        this.watch(result, s, eventType, data, undefined, options, undefined, -1);
    } catch (error) {
      this.failOrUnwind(error, s, eventType, data, undefined, options);
    }
    this.leave();
  }

  /** `fail` for a caller without a finally: should the reporting itself throw, leaves first. */
  private failOrUnwind(
    error: unknown,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
  ): Envelope | undefined {
    try {
      return this.fail(error, s, eventType, data, envelope, options);
    } catch (reportError) {
      this.leave();
      throw reportError;
    }
  }

  /**
   * Several lists without local groups: walks them together in subscription order, with the
   * same rules as `dispatch` (later subscribers wait, removed ones are skipped) and no snapshot.
   */
  private dispatchMerged(
    lists: readonly SubscriberList[],
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    envelope: Envelope | undefined,
    tally: AsyncTally | undefined,
  ): void {
    if (this.room <= 0) throw this.depthExceeded(eventType);
    const newest = this.seq;
    const cursors = lists.map((list) => list.head);
    this.room--;
    try {
      for (;;) {
        let next = -1;
        let nextSeq = newest + 1;
        for (let i = 0; i < cursors.length; i++) {
          let s = cursors[i];
          while (s !== undefined && (s.flags & ACTIVE) === 0) s = s.next;
          cursors[i] = s;
          if (s !== undefined && s.seq < nextSeq) {
            next = i;
            nextSeq = s.seq;
          }
        }
        if (next === -1) break;
        const s = cursors[next] as Subscriber;
        cursors[next] = s.next;
        envelope = this.call(s, eventType, data, options, envelope, tally);
      }
    } finally {
      this.leave();
    }
  }

  /**
   * `dispatchMerged` for the most common case of several lists, a type and one pattern (or two
   * patterns): two cursors in locals instead of an array per publish.
   */
  private dispatchPair(
    [first, second]: readonly [SubscriberList, SubscriberList],
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    envelope: Envelope | undefined,
    tally: AsyncTally | undefined,
  ): void {
    if (this.room <= 0) throw this.depthExceeded(eventType);
    const newest = this.seq;
    let a = first.head;
    let b = second.head;
    this.room--;
    try {
      for (;;) {
        while (a !== undefined && (a.flags & ACTIVE) === 0) a = a.next;
        while (b !== undefined && (b.flags & ACTIVE) === 0) b = b.next;
        let s: Subscriber;
        // Within a list, seq grows from head to tail: the older of the two heads goes first.
        if (a !== undefined && a.seq <= newest && (b === undefined || a.seq < b.seq)) {
          s = a;
          a = a.next;
        } else if (b !== undefined && b.seq <= newest) {
          s = b;
          b = b.next;
        } else {
          break;
        }
        envelope = this.call(s, eventType, data, options, envelope, tally);
      }
    } finally {
      this.leave();
    }
  }

  /** Lists with local groups: pick each group's member, snapshot, call in subscription order. */
  private dispatchMany(
    lists: readonly SubscriberList[],
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    envelope: Envelope | undefined,
    tally: AsyncTally | undefined,
  ): void {
    if (this.room <= 0) throw this.depthExceeded(eventType);
    const newest = this.seq;
    const receivers: { readonly s: Subscriber; readonly group: Group | undefined }[] = [];
    for (const list of lists) {
      for (let s = list.head; s !== undefined; s = s.next) receivers.push({ s, group: undefined });
      if (list.groups === null) continue;
      for (const group of list.groups.values()) {
        const member = group.durable ? undefined : pickMember(group);
        if (member !== undefined) receivers.push({ s: member, group });
      }
    }
    receivers.sort((a, b) => a.s.seq - b.s.seq);
    this.room--;
    try {
      for (const { s, group } of receivers) {
        // A group's member removed before its turn hands the event to the group's next one.
        const receiver = (s.flags & ACTIVE) !== 0 || group === undefined ? s : pickMember(group, newest);
        if (receiver !== undefined && (receiver.flags & ACTIVE) !== 0)
          envelope = this.call(receiver, eventType, data, options, envelope, tally);
      }
    } finally {
      this.leave();
    }
  }

  /** Calls one subscriber with error isolation; returns the envelope, built if it was needed. */
  private call(
    s: Subscriber,
    eventType: string,
    data: unknown,
    options: PublishOptions | undefined,
    envelope: Envelope | undefined,
    tally: AsyncTally | undefined,
  ): Envelope | undefined {
    const flags = (s.flags & ARITY_UNKNOWN) === 0 ? s.flags : settleArity(s);
    if ((flags & ONCE) !== 0) this.remove(s);
    const started = this.observers.length === 0 ? -1 : clock.now();
    try {
      // Called as plain functions, as the publish loop's inline call is: no `this`.
      const { callback } = s;
      let result: unknown;
      if ((flags & WANTS_ENVELOPE) !== 0) {
        envelope ??= this.envelope(eventType, data, options);
        result = callback(data, envelope);
      } else {
        result = callback(data);
      }
      if (result !== undefined && isThenable(result)) {
        this.watch(result, s, eventType, data, envelope, options, tally, started);
        return envelope;
      }
      if (tally !== undefined) tally.delivered++;
      if (started >= 0) this.observe(s, eventType, started, undefined, false);
    } catch (error) {
      if (tally !== undefined) {
        tally.failed++;
        tally.firstError ??= { error };
      }
      if (started >= 0) this.observe(s, eventType, started, error, true);
      envelope = this.fail(error, s, eventType, data, envelope, options);
    }
    return envelope;
  }

  private watch(
    result: PromiseLike<unknown>,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
    tally: AsyncTally | undefined,
    started: number,
  ): void {
    const settled = Promise.resolve(result).then(
      () => {
        if (tally !== undefined) tally.delivered++;
        if (started >= 0) this.observe(s, eventType, started, undefined, false);
      },
      (error: unknown) => {
        if (tally !== undefined) {
          tally.failed++;
          tally.firstError ??= { error };
        }
        if (started >= 0) this.observe(s, eventType, started, error, true);
        this.fail(error, s, eventType, data, envelope, options);
      },
    );
    tally?.pending.push(settled);
  }

  private waitSource(): WaitSource {
    return {
      subscribe: (pattern, callback, options) => this.untyped.subscribe(pattern, callback, options),
      closeHooks: this.closeHooks,
    };
  }

  /** This bus without its event map, for internal subscriptions to arbitrary patterns. */
  private get untyped(): EventBus {
    return this as unknown as EventBus;
  }

  private updateFastTypes(): void {
    const hotPathAllowed =
      !this.closed && !this.registry.hasPatterns && this.remote === undefined && this.observers.length === 0;
    this.fastTypes = hotPathAllowed ? this.registry.byType : null;
  }

  private observe(s: Subscriber, eventType: string, started: number, error: unknown, failed: boolean): void {
    const { callback } = s;
    const durationMs = clock.now() - started;
    const record: DeliveryRecord = failed
      ? { eventType, durationMs, failed, error, callback }
      : { eventType, durationMs, failed, callback };
    for (const observer of this.observers) {
      try {
        observer(record);
      } catch (observerError) {
        console.error(
          `[EventBus] observer threw while watching ${eventType}: ${describeError(observerError)}`,
        );
      }
    }
  }

  private leave(): void {
    this.room++;
    // The cycle test first: V8 folds it away while no cycle ever happened (the field has
    // never been set), and the room's test with it.
    if (this.cycleError !== undefined && this.room === 0) {
      this.room = this.maxDepth;
      this.cycleError = undefined;
    }
  }

  /** Reports a cycle once, then makes every nested publish throw the same error to unwind. */
  private depthExceeded(eventType: string): PublishDepthError {
    if (this.cycleError === undefined) {
      this.cycleError = new PublishDepthError(eventType, this.maxDepth);
      this.cycleErrors.add(this.cycleError);
      this.room -= this.maxDepth;
      this.report(this.cycleError, {
        eventType,
        event: this.envelope(eventType, undefined, undefined),
        callback: () => undefined,
      });
    }
    return this.cycleError;
  }

  /**
   * Reports a callback's error with the publish's envelope, built now (with the publish's
   * attributes) if no callback needed it yet; returns it, for the publish's later callbacks.
   * A cycle's error was reported once where it arose: the levels it unwinds through, thrown or
   * through a promise a level returned (publishAsync in a cycle), stay quiet.
   */
  private fail(
    error: unknown,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
  ): Envelope | undefined {
    if (error instanceof PublishDepthError && this.cycleErrors.has(error)) return envelope;
    const event = envelope ?? this.envelope(eventType, data, options);
    this.report(error, { eventType, event, callback: s.callback });
    return event;
  }

  private report(error: unknown, context: ErrorContext): void {
    if (this.onError === undefined) {
      console.error(`[EventBus] Error in callback for ${context.eventType}: ${describeError(error)}`);
      return;
    }
    const hookFailed = (hookError: unknown) =>
      console.error(
        `[EventBus] onError threw while handling ${context.eventType}: ${describeError(hookError)}`,
      );
    try {
      const result: unknown = this.onError(error, context);
      // An async onError rejects instead of throwing: the same line, not an unhandled rejection.
      if (isThenable(result)) Promise.resolve(result).then(undefined, hookFailed);
    } catch (hookError) {
      hookFailed(hookError);
    }
  }

  private envelope(eventType: string, data: unknown, options: PublishOptions | undefined): Envelope {
    return createEnvelope(eventType, data, this.source, this.nextId(), options);
  }

  /** Delivery of an event that arrived from the transport on a list's plain subscription. */
  private deliverRemote(list: SubscriberList, envelope: Envelope): void {
    if (list.head !== undefined)
      this.dispatch(list, envelope.type, envelope.data, undefined, envelope, undefined);
  }

  /** Delivery from a queue group or durable consumer: one member; the promise settles the ack. */
  private deliverGroup(group: Group, envelope: Envelope): Promise<void> | undefined {
    const member = pickMember(group);
    if (member === undefined)
      return Promise.reject(new BusClosedError("deliver: the group has no members left"));
    const tally: AsyncTally = { delivered: 0, failed: 0, pending: [] };
    this.room--;
    try {
      this.call(member, envelope.type, envelope.data, undefined, envelope, tally);
    } finally {
      this.leave();
    }
    return Promise.all(tally.pending).then(() => {
      // Reject with the callback's own error, so a dead letter can say what went wrong.
      if (tally.firstError !== undefined) throw tally.firstError.error;
    });
  }

  private listFor(pattern: string): SubscriberList {
    const list = this.registry.obtain(pattern);
    if (list.wildcard) this.updateFastTypes();
    return list;
  }

  private remove(s: Subscriber): boolean {
    if ((s.flags & ACTIVE) === 0) return false;
    const { list } = s;
    const emptiedGroup = list.remove(s);
    s.extra?.detach?.();
    if (emptiedGroup !== undefined) this.remote?.unwatchGroup(emptiedGroup);
    else if (s.extra?.group === undefined && list.ungrouped === 0) this.remote?.unwatch(list);
    if (list.ungrouped === 0 && list.groups === null) this.dropList(list);
    return true;
  }

  private dropList(list: SubscriberList): void {
    this.registry.drop(list);
    if (list.wildcard) this.updateFastTypes();
  }

  /** Checks subscribe's options before anything is registered; returns the group key, if any. */
  private subscribeOptions(options: SubscribeOptions): string | undefined {
    assertOptions(options);
    assertFlag(options.once, "once");
    assertSignal(options.signal);
    const { group, durable } = options;
    for (const [name, value] of [
      ["group", group],
      ["durable", durable],
    ] as const) {
      if (value !== undefined && (typeof value !== "string" || value === "" || /[\s.*>]/u.test(value))) {
        throw new TypeError(
          `${name} must be a non-empty name without whitespace, dots or wildcards, got ${JSON.stringify(value)}`,
        );
      }
    }
    if (durable !== undefined) {
      if (!this.remote?.durable) {
        throw new TypeError(
          `durable subscriptions need a transport that supports them; ${this.remote ? `"${this.remote.name}" does not` : "this bus has none"}`,
        );
      }
      return `durable:${durable}`;
    }
    return group === undefined ? undefined : `group:${group}`;
  }

  private bindSignal(subscriber: Subscriber, signal: AbortSignal): void {
    if (signal.aborted) {
      this.remove(subscriber);
      return;
    }
    const onAbort = () => this.remove(subscriber);
    signal.addEventListener("abort", onAbort, { once: true });
    subscriber.extra ??= { group: undefined, detach: undefined };
    subscriber.extra.detach = () => signal.removeEventListener("abort", onAbort);
  }

  private unsubscriber(subscriber: Subscriber): Unsubscribe {
    // A bound function rather than an arrow: one object instead of a closure and its context.
    const off = this.remove.bind(this, subscriber);
    (off as Unsubscribe)[disposeSymbol] = off;
    return off as Unsubscribe;
  }

  private warnLeak(list: SubscriberList): void {
    list.warned = true;
    console.warn(
      `[EventBus] Possible memory leak: ${list.size} subscriptions on "${list.pattern}" (maxListeners is ${this.maxListeners}). Unsubscribe when done, or raise maxListeners (0 turns this warning off).`,
    );
  }
}
