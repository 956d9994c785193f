/**
 * Unrolled walks: for a list that keeps its subscribers while it is published again and again,
 * the publish loop written out as straight-line code, one call site per subscriber. A loop has
 * one call site for every callback of every list, so V8 can inline none of them; an unrolled
 * call site sees one callback and can (publish to 3 listeners: 2.3x the loop's rate, to 10:
 * 4.3x, in bench/ runs; docs/bench.md).
 *
 * The code is generated once per subscriber count with `new Function`, from fixed text and
 * indexes only, never from a name or a value a user gave; each list binds its own subscribers
 * into a closure of it. Where eval is refused (a Content-Security-Policy without
 * `unsafe-eval`), every list keeps the loop.
 */

import type { Subscriber, SubscriberList } from "./_subscribers.js";
import type { Envelope } from "./envelope.js";

/** What an unrolled walk hands back to the bus: the rare outcomes of a call. */
export interface WalkHost {
  /** A callback returned a promise (or thenable): its failure must reach onError later. */
  settleLater(
    result: PromiseLike<unknown>,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
  ): void;
  /**
   * A callback threw. The only way a throw leaves a walk: when reporting the error throws too,
   * this gives back the walk's publish depth before letting that error out.
   */
  caught(
    error: unknown,
    s: Subscriber,
    eventType: string,
    data: unknown,
    envelope: Envelope | undefined,
  ): void;
}

/** One publish to a list, with the rules of the loop it replaces; the caller keeps the depth. */
export type Walk = (host: WalkHost, data: unknown, eventType: string, envelope: Envelope | undefined) => void;

/** Publishes a list takes unchanged before it gets its walk: a transient list never pays for one. */
export const UNROLL_AFTER = 16;
/** Beyond this many subscribers a call's own cost hides the loop's, and the code would only grow. */
const MAX_UNROLLED = 16;

type WalkFactory = (isThenable: (value: object) => boolean, ...subscribers: Subscriber[]) => Walk;

const factories: (WalkFactory | undefined)[] = [];
let evalRefused = false;

/**
 * The code of a walk over `count` subscribers. A subscriber removed during the publish has
 * `fast` null and is skipped, as the loop skips it; one added during it is not in the walk (a
 * change of the list drops the walk for the next publish), as the loop stops before it.
 */
function walkSource(count: number): string {
  let body = "let c, r;\n";
  for (let i = 0; i < count; i++) {
    body += `c = s${i}.fast;
if (c !== null) {
  try {
    r = c(data);
    if (r !== undefined && isThenable(r)) host.settleLater(r, s${i}, eventType, data, envelope);
  } catch (error) {
    host.caught(error, s${i}, eventType, data, envelope);
  }
}
`;
  }
  return `return function unrolledWalk(host, data, eventType, envelope) {\n${body}};`;
}

function factoryFor(count: number): WalkFactory | undefined {
  let factory = factories[count];
  if (factory === undefined && !evalRefused) {
    const names = Array.from({ length: count }, (_, i) => `s${i}`);
    try {
      factory = new Function("isThenable", ...names, walkSource(count)) as WalkFactory;
    } catch {
      evalRefused = true;
      return undefined;
    }
    factories[count] = factory;
  }
  return factory;
}

/**
 * The walk of a list whose every subscriber the loop would call inline (active, plain, settled);
 * null when one is not, or when there are too many or none.
 */
export function unrolledWalk(list: SubscriberList, isThenable: (value: object) => boolean): Walk | null {
  const subscribers: Subscriber[] = [];
  for (let s = list.head; s !== undefined; s = s.next) {
    if (s.fast === null || subscribers.length === MAX_UNROLLED) return null;
    subscribers.push(s);
  }
  if (subscribers.length === 0) return null;
  const factory = factoryFor(subscribers.length);
  return factory === undefined ? null : factory(isThenable, ...subscribers);
}
