/** Options of `redisTransport()`, their defaults and their checks. */
import type { RedisOptions } from "ioredis";
import { assertFlag, shownValue } from "../_checks.js";
import { maskUrl } from "./_credentials.js";
import type { ConsumerOptions } from "./_redis-consumer.js";
import { assertNamespace } from "./memory.js";

/** Options of `redisTransport()`; every other option goes to ioredis (`username`, `password`, `tls`, ...). */
export interface RedisTransportOptions extends Omit<RedisOptions, "lazyConnect">, Partial<ConsumerOptions> {
  /**
   * Redis URL: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS.
   * @default "redis://127.0.0.1:6379"
   */
  url?: string;
  /**
   * First token of every channel and key: buses see only their namespace.
   * @default "agent-bus"
   */
  namespace?: string;
  /**
   * Largest event in bytes, as its CloudEvents JSON; bigger ones throw a PayloadError.
   * @default 1048576
   */
  maxPayload?: number;
  /**
   * Approximate cap of the namespace's stream (`XADD MAXLEN ~`): older entries are trimmed,
   * read or not.
   * @default 100000
   */
  maxLength?: number;
  /**
   * Milliseconds during which an event id already stored is not stored again (0: off).
   * @default 120000
   */
  duplicateWindow?: number;
  /**
   * While disconnected: "buffer" queues publishes in ioredis's offline queue (up to
   * `bufferBytes`) and sends them on reconnect; "reject" makes publish throw a TransportError.
   * @default "buffer"
   */
  disconnected?: "buffer" | "reject";
  /**
   * Keep trying when the server does not answer the first connect (an application started before
   * its Redis), as ioredis's `retryStrategy` says, instead of failing `ready()` at once. Publishes
   * meanwhile wait, as they do before any connect.
   * @default false
   */
  waitOnFirstConnect?: boolean;
  /**
   * Bytes of events (their JSON) queued while disconnected; a publish beyond throws a
   * TransportError. Without a cap, a server that stays away grows the offline queue until the
   * process runs out of memory.
   * @default 8388608
   */
  bufferBytes?: number;
}

/** The options with their defaults; `client` is what goes to ioredis. */
export interface Settings extends ConsumerOptions {
  readonly url: string;
  readonly namespace: string;
  readonly maxPayload: number;
  readonly maxLength: number;
  readonly duplicateWindow: number;
  readonly disconnected: "buffer" | "reject";
  readonly bufferBytes: number;
  readonly waitOnFirstConnect: boolean;
  readonly client: Omit<RedisOptions, "lazyConnect">;
}

/**
 * A redis:// or rediss:// URL whose path, if any, is a database number (ioredis reads `/x` as
 * database 0); the value is named, not its password.
 */
function assertRedisUrl(url: unknown): void {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  const shown = typeof url === "string" ? JSON.stringify(maskUrl(url)) : String(url);
  if (parsed?.protocol !== "redis:" && parsed?.protocol !== "rediss:") {
    throw new TypeError(`url must be a redis:// or rediss:// URL, got ${shown}`);
  }
  if (!/^\/?(\d+)?$/u.test(parsed.pathname)) {
    throw new TypeError(`url's path must be a database number (redis://host:port/2), got ${shown}`);
  }
}

/** Applies the defaults; throws a TypeError naming the first bad option and its value. */
export function resolve(options: RedisTransportOptions): Settings {
  const {
    url = "redis://127.0.0.1:6379",
    namespace = "agent-bus",
    maxPayload = 1024 * 1024,
    maxLength = 100_000,
    duplicateWindow = 120_000,
    disconnected = "buffer",
    bufferBytes = 8 * 1024 * 1024,
    waitOnFirstConnect = false,
    maxDeliver = 5,
    ackWait = 30_000,
    ...client
  } = options;
  assertNamespace(namespace);
  assertRedisUrl(url);
  positiveInteger("maxPayload", maxPayload);
  positiveInteger("maxLength", maxLength);
  positiveInteger("maxDeliver", maxDeliver);
  if (!(ackWait > 0))
    throw new TypeError(`ackWait must be a positive number of milliseconds, got ${ackWait}`);
  if (!(duplicateWindow >= 0))
    throw new TypeError(
      `duplicateWindow must be a non-negative number of milliseconds, got ${duplicateWindow}`,
    );
  if (disconnected !== "buffer" && disconnected !== "reject")
    throw new TypeError(`disconnected must be "buffer" or "reject", got ${JSON.stringify(disconnected)}`);
  if (!Number.isInteger(bufferBytes) || bufferBytes < 0)
    throw new TypeError(`bufferBytes must be a non-negative integer, got ${shownValue(bufferBytes)}`);
  assertFlag(waitOnFirstConnect, "waitOnFirstConnect");
  return {
    url,
    namespace,
    waitOnFirstConnect: waitOnFirstConnect === true,
    maxPayload,
    maxLength,
    duplicateWindow,
    disconnected,
    bufferBytes,
    maxDeliver,
    ackWait,
    client,
  };
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`${name} must be a positive integer, got ${shownValue(value)}`);
}
