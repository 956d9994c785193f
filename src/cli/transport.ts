/**
 * The distributed bus on the command line: `--nats <url>` or `--redis <url>`, `--namespace`,
 * `--connect-timeout`, mapped to a transport factory; connecting with a bounded wait; status lines.
 */
import { EventBus } from "../bus.js";
import type { Transport, TransportStatus } from "../transport.js";
import { maskUrl } from "../transports/_credentials.js";
import { assertNamespace } from "../transports/memory.js";
import { natsTransport } from "../transports/nats.js";
import { redisTransport } from "../transports/redis.js";
import { type OptionSpec, type ParsedOptions, UsageError } from "./args.js";

/** Re-exported: the CLI masks the URLs it prints with the transports' own function. */
export { maskUrl };

/** The namespace every command uses unless `--namespace` says otherwise, so they meet by default. */
export const DEFAULT_NAMESPACE = "agent-bus";

/** Milliseconds to wait for the first connection before giving up (exit code 1). */
export const DEFAULT_CONNECT_TIMEOUT = 5000;

/** One broker the CLI can put a bus on: its display name and how to make its transport. */
interface TransportEntry {
  readonly label: string;
  create(url: string, namespace: string, connectTimeout: number): Transport;
}

/** Transports by flag name: adding a broker to every command is one entry here. */
const TRANSPORTS: Readonly<Record<string, TransportEntry>> = {
  nats: {
    label: "NATS",
    // Long-running commands keep reconnecting; the first connect is bounded by `timeout`.
    create: (url, namespace, connectTimeout) =>
      natsTransport({ ...natsServer(url), namespace, timeout: connectTimeout, maxReconnectAttempts: -1 }),
  },
  redis: {
    label: "Redis",
    create: (url, namespace, connectTimeout) => redisTransport({ url, namespace, connectTimeout }),
  },
};

/**
 * The NATS client takes credentials as options, not in the URL: `user:password@` becomes
 * `user` and `pass`, a lone `token@` becomes `token`.
 */
function natsServer(url: string): { servers: string; user?: string; pass?: string; token?: string } {
  const match = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)([^/@\s]+)@(.*)$/iu.exec(url);
  if (match === null) return { servers: url };
  const [, scheme, userinfo, rest] = match as unknown as [string, string, string, string];
  const servers = `${scheme}${rest}`;
  const colon = userinfo.indexOf(":");
  if (colon === -1) return { servers, token: decode(userinfo) };
  return { servers, user: decode(userinfo.slice(0, colon)), pass: decode(userinfo.slice(colon + 1)) };
}

/** Percent-decoding that keeps a malformed escape as it is. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The options every command on the distributed bus accepts. */
export const TRANSPORT_OPTIONS: OptionSpec = {
  ...Object.fromEntries(Object.keys(TRANSPORTS).map((flag) => [flag, "string"])),
  namespace: "string",
  "connect-timeout": "string",
};

/** The broker a command line asked for. */
export interface TransportChoice {
  /** The flag that chose it: "nats" or "redis". */
  readonly flag: string;
  /** The URL as given (may hold credentials: print `where` instead). */
  readonly url: string;
  readonly namespace: string;
  readonly connectTimeout: number;
  /** The broker's name: "NATS" or "Redis". */
  readonly label: string;
  /** "NATS nats://127.0.0.1:4222", credentials masked. */
  readonly server: string;
  /** "NATS nats://127.0.0.1:4222, namespace agent-bus", credentials masked. */
  readonly where: string;
  /** A new transport for this broker. */
  create(): Transport;
}

function connectTimeoutOf(values: ParsedOptions["values"]): number {
  const text = values["connect-timeout"] as string | undefined;
  if (text === undefined) return DEFAULT_CONNECT_TIMEOUT;
  if (!/^\d+$/u.test(text) || Number(text) < 1) {
    throw new UsageError(`--connect-timeout must be a positive number of milliseconds, got "${text}"`);
  }
  return Number(text);
}

/**
 * The broker chosen by `--nats` or `--redis`, or undefined for none; throws UsageError for both,
 * or for `--namespace` without a broker.
 */
export function chooseTransport(values: ParsedOptions["values"]): TransportChoice | undefined {
  const given = Object.keys(TRANSPORTS).filter((flag) => values[flag] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of ${given.map((flag) => `--${flag}`).join(", ")}`);
  const flag = given[0];
  const namespace = (values.namespace as string | undefined) ?? DEFAULT_NAMESPACE;
  if (flag === undefined) {
    const needing = ["namespace", "connect-timeout"].filter((name) => values[name] !== undefined);
    if (needing.length > 0) {
      const named = needing.map((name) => `--${name}`).join(" and ");
      throw new UsageError(`${named} need${needing.length === 1 ? "s" : ""} --nats <url> or --redis <url>`);
    }
    return undefined;
  }
  const entry = TRANSPORTS[flag] as TransportEntry;
  const url = values[flag] as string;
  const connectTimeout = connectTimeoutOf(values);
  try {
    assertNamespace(namespace);
  } catch (error) {
    throw new UsageError(`--${(error as Error).message}`);
  }
  const server = `${entry.label} ${maskUrl(url)}`;
  return {
    flag,
    url,
    namespace,
    connectTimeout,
    label: entry.label,
    server,
    where: `${server}, namespace ${namespace}`,
    create: () => entry.create(url, namespace, connectTimeout),
  };
}

/** The broker could not be reached in time: the CLI prints the message and exits 1. */
export class ConnectError extends Error {
  override name = "ConnectError";
}

/** One line about a change of connection state, credentials masked. */
export function describeStatus(status: TransportStatus, choice: TransportChoice): string {
  const reason = "error" in status && status.error !== undefined ? `: ${maskUrl(String(status.error))}` : "";
  switch (status.state) {
    case "connected": {
      const server = status.server ? `${choice.label} ${maskUrl(status.server)}` : choice.server;
      return `[bus] connected to ${server}, namespace ${choice.namespace}`;
    }
    case "closed":
      return `[bus] connection to ${choice.server} closed`;
    default:
      return `[bus] ${status.state} (${choice.server})${reason}`;
  }
}

/** Options of `connectBus()`. */
export interface ConnectOptions {
  /** Receives each connection state change. */
  onStatus?: (status: TransportStatus) => void;
}

/**
 * A bus on the chosen broker, connected: resolves once `ready()` did, rejects with a
 * ConnectError naming the (masked) URL when the broker does not answer within the timeout.
 */
export async function connectBus(choice: TransportChoice, options: ConnectOptions = {}): Promise<EventBus> {
  const bus = new EventBus({
    transport: choice.create(),
    ...(options.onStatus !== undefined && { onStatus: options.onStatus }),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${choice.connectTimeout} ms`)),
      choice.connectTimeout,
    );
  });
  try {
    await Promise.race([bus.ready(), timeout]);
    return bus;
  } catch (error) {
    // Not awaited: a connect still under way ends with the client's own timeout.
    bus.close().catch(() => undefined);
    // A client package not installed: the transport's own message says what to install.
    const missing = (error as { cause?: { code?: unknown } }).cause?.code === "ERR_MODULE_NOT_FOUND";
    if (missing && error instanceof Error)
      throw new ConnectError(error.message.replace(/^\[EventBus:\w+\] /u, ""));
    // The transport's own message repeats the unmasked URL; its cause says what went wrong.
    const reason = error instanceof Error && error.cause !== undefined ? error.cause : error;
    const text = reason instanceof Error ? reason.message : String(reason);
    throw new ConnectError(`cannot connect to ${choice.server}: ${maskUrl(text)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
