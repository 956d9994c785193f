/**
 * The connections of a Redis transport: opening one with an error that says why it failed,
 * following the command connection's state, closing after what was sent.
 */
import type { Redis } from "ioredis";
import { TransportError } from "../errors.js";
import type { TransportContext } from "../transport.js";

/**
 * Connects a client created with `lazyConnect`; throws a TransportError naming the URL and the
 * cause. With `wait`, a refused first attempt is retried as ioredis retries a lost connection
 * (its `retryStrategy`), until the server answers or the strategy gives up.
 */
export async function open(connection: Redis, url: string, wait?: AbortSignal): Promise<void> {
  let cause: unknown;
  // ioredis reports the reason (refused, WRONGPASS, TLS) as an "error" event; the
  // rejection of connect() only says the connection closed.
  const remember = (error: unknown) => {
    cause ??= error;
  };
  connection.on("error", remember);
  try {
    await (wait !== undefined ? untilReady(connection, wait) : connection.connect());
    // ioredis selects the database but only logs a refusal (a number past the server's
    // `databases`), and carries on in database 0, beside another application's streams.
    const { db = 0 } = connection.options;
    if (db !== 0) await connection.select(db);
  } catch (error) {
    connection.disconnect();
    cause ??= error;
    throw new TransportError(`[EventBus:redis] cannot connect to ${redact(url)}: ${describe(cause)}`, {
      cause,
    });
  } finally {
    connection.off("error", remember);
  }
  // Errors after connecting come with a reconnect, reported through the status events.
  connection.on("error", () => undefined);
}

/**
 * Resolves at the connection's first "ready"; rejects when ioredis stops retrying ("end"), or
 * when the signal aborts (the bus closed meanwhile).
 */
function untilReady(connection: Redis, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      connection.off("ready", onReady);
      connection.off("end", onEnd);
      signal.removeEventListener("abort", onAbort);
      outcome();
    };
    const onReady = () => settle(resolve);
    const onEnd = () => settle(() => reject(new Error("the retryStrategy gave up")));
    const onAbort = () => settle(() => reject(new Error("the bus closed before the server answered")));
    if (signal.aborted) return onAbort();
    connection.on("ready", onReady);
    connection.on("end", onEnd);
    signal.addEventListener("abort", onAbort, { once: true });
    // The first attempt's failure is one of the retries: "ready" or "end" says how it ended.
    connection.connect().catch(() => undefined);
  });
}

/** Reports the command connection's state changes to the bus. */
export function followStatus(
  connection: Redis,
  url: string,
  context: TransportContext,
  closing: () => boolean,
): void {
  let lastError: unknown;
  connection.on("error", (error: unknown) => {
    lastError = error;
  });
  connection.on("close", () => {
    if (!closing()) context.status({ state: "disconnected", error: lastError });
  });
  connection.on("reconnecting", () => context.status({ state: "reconnecting", error: lastError }));
  // "end": ioredis will not reconnect (its retryStrategy gave up); the bus's own close says so itself.
  connection.on("end", () => {
    if (closing()) return;
    const why = lastError === undefined ? "" : `: ${describe(lastError)}`;
    context.status({
      state: "closed",
      error: new TransportError(`[EventBus:redis] stopped reconnecting${why}`),
    });
  });
  connection.on("ready", () => context.status({ state: "connected", server: redact(url) }));
}

/**
 * QUIT is answered after every command sent before it. While disconnected it would wait in the
 * offline queue for a server that may never return: then the socket is dropped at once, and
 * whatever was still queued with it; returns false in that case.
 */
export async function quit(connection: Redis): Promise<boolean> {
  if (connection.status !== "ready") {
    connection.disconnect();
    return false;
  }
  await connection.quit().catch(() => connection.disconnect());
  return true;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
