/**
 * Unrolled walks: for a list that keeps its subscribers while it is published again and again,
 * the publish loop written out as straight-line code, one call site per subscriber. A loop has
 * one call site for every callback of every list, so V8 can inline none of them; an unrolled
 * call site sees one callback and can (docs/bench-history.md has the paired runs: 3 and 10
 * listeners several times the loop's rate).
 *
 * The code is generated once per shape (the subscriber count, and which of them take the
 * envelope) with `new Function`, from fixed text and indexes only, never from a name or a value a
 * user gave; each list binds its own subscribers and their callbacks into a closure of it. Where
 * eval is refused (a Content-Security-Policy without `unsafe-eval`,
 * `--disallow-code-generation-from-strings`), every list keeps the loop.
 */
import type { Flags, Subscriber, SubscriberList } from "./_subscribers.js";
import type { Envelope, PublishOptions } from "./envelope.js";

// The subscriber flags as this module's own constants: see Flags in _subscribers.ts for why.
const ACTIVE: Flags["ACTIVE"] = 1;
const ONCE: Flags["ONCE"] = 4;
const WANTS_ENVELOPE: Flags["WANTS_ENVELOPE"] = 8;
const ARITY_UNKNOWN: Flags["ARITY_UNKNOWN"] = 16;

/** What an unrolled walk hands back to the bus: the rare outcomes of a call, and a changed list. */
export interface WalkHost {
  /** `walkChanges` of _subscribers.ts, which a walk has no other way to reach. */
  readonly changes: { readonly epoch: number };
  /** The publish's envelope, built by the first subscriber that takes one; later ones share it. */
  envelope(eventType: string, data: unknown, options: PublishOptions | undefined): Envelope;
  /**
   * A callback returned something. When it is a promise (or thenable), its failure must reach
   * onError later. (Testing that here, not in the walk, keeps each call site's code small:
   * V8 inlines a walk into its caller only within a budget of bytecode.)
   */
  settleLater(
    result: unknown,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
  ): void;
  /**
   * A callback threw. When reporting the error throws too (one of the two ways a throw leaves a
   * walk, with `rest`), this gives back the walk's publish depth before letting that error out.
   * Returns the publish's envelope, which the report may have built, for the callbacks after it.
   */
  caught(
    error: unknown,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
  ): Envelope | undefined;
  /**
   * A list (this one or any other) changed during a call: the rest of the publish, from `subscribers[from]` on, with
   * the loop's rules (the removed skipped; the added are not in `subscribers`). Like `caught`,
   * gives the depth back before letting out an error that reporting threw.
   */
  rest(
    subscribers: readonly Subscriber[],
    from: number,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
    options: PublishOptions | undefined,
  ): void;
}

/** One publish to a list, with the rules of the loop it replaces; the caller keeps the depth. */
export type Walk = (
  host: WalkHost,
  data: unknown,
  eventType: string,
  envelope: Envelope | undefined,
  options: PublishOptions | undefined,
) => void;

/**
 * Publishes a list takes through the loop, unchanged, before the next one builds its walk and
 * takes it: a list published once or twice between changes never pays for one. Kept low so that
 * walks exist before V8 optimizes the code that publishes: code optimized while the loop was the
 * path taken calls the walk out of line for good (64 types, counted: 521 instructions a publish
 * at 16, 451 at 2). The price is a build (~500 instructions) each time a list that was published
 * three times or more in a row changes. (Making a list that drops walks wait longer for the next
 * cost lists changing every 8 to 40 publishes more than it saved: docs/bench-history.md, session 12.)
 */
export const UNROLL_AFTER = 2;
/** Beyond this many subscribers a call's own cost hides the loop's, and the code would only grow. */
const MAX_UNROLLED = 16;

/**
 * Makes the walk of one list from its subscribers, which it reads into variables of its own:
 * two arguments, so that building a walk costs no spread call (a list that changes every few
 * publishes rebuilds its walk often).
 */
type WalkFactory = (list: SubscriberList, subscribers: readonly Subscriber[]) => Walk;

/**
 * Factories by shape: the subscriber count and which of them take the envelope. Each is code V8
 * keeps, so their number is capped; a list of a shape beyond the cap keeps the loop. The shapes
 * without envelopes, the common ones, are also kept by count in an array: a Map lookup was a
 * good part of building a walk (join, 3 publishes, leave: 118 instructions more, callgrind).
 */
const factories = new Map<number, WalkFactory>();
const plainFactories: (WalkFactory | undefined)[] = [];
const MAX_SHAPES = 512;
let evalRefused = false;

/**
 * The code of a walk over `count` subscribers: each callback called from its own site, then,
 * unless it was the last, a test that no walk was dropped meanwhile. Any change of a list (a
 * subscriber removed or added, here or in a nested publish) drops its walk and moves the shared
 * `changes.epoch`, so one load replaces a test per subscriber; after a change, of this list or
 * any other, `rest` finishes the publish as the loop would (the loop's rules hold for a list that
 * did not change too). The shared counter rather than this list's own `walk`: a walk's code
 * serves every list of its shape, so V8 must check the type of a list it reads, at each test,
 * which the counter, one object for all, spares (64 types: 447 -> 429 instructions a publish,
 * callgrind). A subscriber that takes the envelope gets the publish's one, built by the first
 * such call of the publish (or earlier, by the caller).
 */
function walkSource(count: number, envelopeMask: number): string {
  // `var`, not `const`: the walk would test a `const` of its factory for the TDZ at every call.
  let members = "";
  for (let i = 0; i < count; i++) members += `var s${i} = subscribers[${i}], c${i} = s${i}.callback;\n`;
  const start = count > 1 ? "const changes = host.changes, epoch = changes.epoch;\n" : "";
  const body = envelopeMask === 0 ? oneTry(count) : tryEach(count, envelopeMask);
  return `${members}return function unrolledWalk(host, data, eventType, envelope, options) {\n${start}${body}};`;
}

/**
 * The body for plain subscribers: one `try` for all the calls, `k` naming the subscriber being
 * called, the tests nested so that a change leaves them all at once; a callback that throws is
 * reported, then `rest` goes on from the next one. With a `try` and a `rest` call per subscriber,
 * as `tryEach`, the walk of 3 was 360 bytes of bytecode, which with `publish` and the callbacks
 * came near V8's budget for inlining into one caller (920 bytes): whether a process got it all
 * inlined then depended on the order its functions were optimized in (3 listeners: 125 or 185
 * million publishes a second, by process). Counted: 3 listeners 126 -> 105 instructions.
 */
function oneTry(count: number): string {
  let calls = "";
  for (let i = 0; i < count; i++) {
    if (i > 0) calls += `if (changes.epoch === epoch) {\nk = ${i};\n`;
    calls += `r = c${i}(data);\nif (r !== undefined) host.settleLater(r, s${i}, eventType, data, envelope, options);\n`;
  }
  calls += `return;\n${"}\n".repeat(count - 1)}`;
  const rest =
    count > 1
      ? `if (k < ${count - 1}) host.rest(subscribers, k + 1, eventType, data, envelope, options);\n`
      : "";
  return `let r, k = 0;
try {
${calls}} catch (error) {
envelope = host.caught(error, subscribers[k], eventType, data, envelope, options);
}
${rest}`;
}

/**
 * The body when some subscribers take the envelope: a `try` per call, the change tested after
 * each. With one `try` for all, V8 inlined the envelope's build into the walk and the walk into no
 * caller: 3 such subscribers counted 467 -> 504 instructions a publish.
 */
function tryEach(count: number, envelopeMask: number): string {
  let body = "let r;\n";
  for (let i = 0; i < count; i++) {
    const args =
      (envelopeMask & (1 << i)) === 0
        ? "data"
        : "data, envelope ?? (envelope = host.envelope(eventType, data, options))";
    body += `try {
  r = c${i}(${args});
  if (r !== undefined) host.settleLater(r, s${i}, eventType, data, envelope, options);
} catch (error) {
  envelope = host.caught(error, s${i}, eventType, data, envelope, options);
}
`;
    if (i < count - 1)
      body += `if (changes.epoch !== epoch) return host.rest(subscribers, ${i + 1}, eventType, data, envelope, options);\n`;
  }
  return body;
}

function factoryFor(count: number, envelopeMask: number): WalkFactory | undefined {
  const shape = envelopeMask * (MAX_UNROLLED + 1) + count;
  let factory = factories.get(shape);
  if (factory === undefined && !evalRefused && factories.size < MAX_SHAPES) {
    try {
      factory = new Function("list", "subscribers", walkSource(count, envelopeMask)) as WalkFactory;
    } catch {
      evalRefused = true;
      return undefined;
    }
    factories.set(shape, factory);
    if (envelopeMask === 0) plainFactories[count] = factory;
  }
  return factory;
}

/**
 * The walk of a list whose every subscriber is active, settled and not once: plain ones (the
 * loop's inline calls) and ones that take the envelope. Null when one is not, or when there are
 * too many or none.
 */
export function unrolledWalk(list: SubscriberList): Walk | null {
  let count = 0;
  let envelopeMask = 0;
  for (let s = list.head; s !== undefined; s = s.next) {
    if (count === MAX_UNROLLED) return null;
    if (s.fast === null) {
      if ((s.flags & (ACTIVE | ONCE | ARITY_UNKNOWN | WANTS_ENVELOPE)) !== (ACTIVE | WANTS_ENVELOPE))
        return null;
      envelopeMask |= 1 << count;
    }
    count++;
  }
  if (count === 0) return null;
  // The array first, apart, so that the common case stays small enough for V8 to inline.
  const factory = (envelopeMask === 0 ? plainFactories[count] : undefined) ?? factoryFor(count, envelopeMask);
  if (factory === undefined) return null;
  // Sized at once: growing an array by push is a good part of building a walk.
  const subscribers = new Array<Subscriber>(count);
  let i = 0;
  for (let s = list.head; s !== undefined; s = s.next) subscribers[i++] = s;
  return factory(list, subscribers);
}
