/**
 * Type-level machinery for typed buses: `new EventBus<Events>()` maps event types to payloads,
 * and patterns resolve to the union of the payloads of the types they match.
 */
import type { Envelope, PublishOptions } from "./envelope.js";

/** The event map of an untyped bus: any event type, any payload (the seed's behaviour). */
// biome-ignore lint/suspicious/noExplicitAny: the untyped default must accept the seed's code unchanged
export type AnyEvents = Record<string, any>;

type Split<S extends string> = S extends `${infer Head}.${infer Tail}` ? [Head, ...Split<Tail>] : [S];

type TokensMatch<Pattern extends string[], Type extends string[]> = Pattern extends [">"]
  ? Type extends [string, ...string[]]
    ? true
    : false
  : Pattern extends [infer Head extends string, ...infer Rest extends string[]]
    ? Type extends [infer TypeHead extends string, ...infer TypeRest extends string[]]
      ? Head extends "*" | TypeHead
        ? TokensMatch<Rest, TypeRest>
        : false
      : false
    : Type extends []
      ? true
      : false;

type IsOpen<Events> = string extends keyof Events ? true : false;

/** The event types of an event map. */
export type EventTypeOf<Events> = keyof Events & string;

/** The event types of `Events` that `Pattern` matches. */
export type MatchingTypes<Events, Pattern extends string> = {
  [Type in EventTypeOf<Events>]: TokensMatch<Split<Pattern>, Split<Type>> extends true ? Type : never;
}[EventTypeOf<Events>];

/** The payload a subscriber to `Pattern` receives: the union over the types it matches. */
export type PayloadOf<Events, Pattern extends string> = Pattern extends keyof Events
  ? Events[Pattern]
  : IsOpen<Events> extends true
    ? // biome-ignore lint/suspicious/noExplicitAny: open maps carry any payload
      any
    : Events[MatchingTypes<Events, Pattern>];

/** `Pattern` itself when it can match an event of the map, `never` (a compile error) otherwise. */
export type KnownPattern<Events, Pattern extends string> =
  IsOpen<Events> extends true ? Pattern : [MatchingTypes<Events, Pattern>] extends [never] ? never : Pattern;

/** A subscriber: gets the data first (as in the seed), then the CloudEvents envelope. */
export type Callback<T = unknown> = (data: T, envelope: Envelope<T>) => unknown;

/** The arguments after the event type: data may be left out only when the payload admits undefined. */
export type PublishArgs<T> = undefined extends T
  ? [data?: T, options?: PublishOptions]
  : [data: T, options?: PublishOptions];

/** The reply type of a request, from the bus's reply map (unknown when not declared). */
export type ReplyOf<Replies, Type extends string> = Type extends keyof Replies ? Replies[Type] : unknown;

/** A responder: gets the request's data and envelope, returns (or resolves to) the reply. */
export type Responder<T = unknown, Reply = unknown> = (
  data: T,
  envelope: Envelope<T>,
) => Reply | PromiseLike<Reply>;
