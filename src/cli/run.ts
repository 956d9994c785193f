/** `agent-bus run`: the host as a program, until SIGINT or SIGTERM. */
import { relative, resolve } from "node:path";
import type { EventBus } from "../bus.js";
import { TOKEN_ENV } from "../host/access.js";
import {
  ConfigError,
  closeOnSignals,
  createHost,
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  type Host,
  type HostOptions,
  PortInUseError,
} from "../host/index.js";
import type { TransportStatus } from "../transport.js";
import { type OptionSpec, parseOptions, UsageError } from "./args.js";
import { RUN_USAGE, version } from "./help.js";
import {
  ConnectError,
  chooseTransport,
  connectBus,
  describeStatus,
  TRANSPORT_OPTIONS,
  type TransportChoice,
} from "./transport.js";

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

const RUN_OPTIONS: OptionSpec = {
  extensions: "list",
  "extensions-dir": "string",
  config: "string",
  "data-dir": "string",
  port: "port",
  host: "string",
  token: "string",
  "no-inspector": "flag",
  ...TRANSPORT_OPTIONS,
  help: "flag",
};

/** What a `run` command line asks for: host options, and the broker of a distributed bus. */
export type RunOptions = HostOptions & { help?: boolean; transport?: TransportChoice };

/** The host options a `run` command line asks for; throws UsageError on a bad one. */
export function runOptions(argv: readonly string[]): RunOptions {
  const { values, positionals } = parseOptions(argv, RUN_OPTIONS, "run");
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" (names go after --extensions)`);
  }
  const options: RunOptions = { extensions: (values.extensions as string[]) ?? [] };
  if (values.help === true) options.help = true;
  if (values["extensions-dir"] !== undefined) options.extensionsDir = values["extensions-dir"] as string;
  if (values.config !== undefined) options.config = values.config as string;
  if (values["data-dir"] !== undefined) options.dataDir = values["data-dir"] as string;
  if (values.port !== undefined) options.port = values.port as number;
  if (values.host !== undefined) options.hostname = values.host as string;
  const token = (values.token as string | undefined) ?? process.env[TOKEN_ENV];
  if (token !== undefined && token !== "") options.token = token;
  if (values["no-inspector"] === true) options.inspector = false;
  const transport = chooseTransport(values);
  if (transport !== undefined) options.transport = transport;
  return options;
}

/** Starts the host; the default port falls back to a free one, an explicit port does not. */
async function start(options: HostOptions): Promise<Host> {
  if (options.port !== undefined) return createHost(options);
  try {
    return await createHost({ ...options, port: DEFAULT_PORT });
  } catch (error) {
    if (!(error instanceof PortInUseError)) throw error;
    console.warn(`[host] port ${DEFAULT_PORT} is taken; using a free port instead (choose one with --port)`);
    return createHost({ ...options, port: 0 });
  }
}

/** A path relative to the working directory when it is inside it, else absolute. */
function displayPath(path: string): string {
  const relativePath = relative(process.cwd(), path);
  return relativePath === "" || relativePath.startsWith("..") ? path : `./${relativePath}`;
}

/** Waits, bounded, until the extensions' subscriptions are in place at the broker: the banner means ready. */
async function settled(bus: EventBus, timeout: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeout);
  });
  await Promise.race([bus.ready(), late]);
  clearTimeout(timer);
}

/** Status changes of the distributed bus, one line each; trouble on stderr. */
function reportStatus(choice: TransportChoice): (status: TransportStatus) => void {
  return (status) => {
    const line = describeStatus(status, choice);
    if (status.state === "connected" || status.state === "closed") console.log(line);
    else console.warn(line);
  };
}

function banner(host: Host, dataDir: string, where: string): string {
  const { loaded, failed } = host.extensions;
  // The inspector's assets and API are many routes; one line for the page says it all.
  const all = host.http.routes();
  const routes = all.filter((route) => route.owner !== "inspector");
  const width = Math.max(...routes.map((r) => r.path.length));
  const lines = [
    `agent-bus ${version()}: ${loaded.length} extension(s) on ${where}: ${loaded.map((e) => e.name).join(", ") || "none"}`,
  ];
  if (failed.length > 0) lines.push(`  not loaded: ${failed.map((e) => `${e.name} (${e.kind})`).join(", ")}`);
  if (all.length > routes.length) {
    lines.push(
      `  inspector  ${host.url}/   (live events, rates, subscribers, errors; /metrics for Prometheus)`,
    );
  }
  for (const route of routes) {
    const what = route.owner === "host" ? "extensions and routes" : route.owner;
    lines.push(`  ${route.method} ${host.url}${route.path.padEnd(width)}  ${what}`);
  }
  lines.push(`  data in ${displayPath(dataDir)} · Ctrl+C to stop`);
  return lines.join("\n");
}

/** Runs the host until a signal; resolves with an exit code only when it could not start. */
export async function runCommand(argv: readonly string[]): Promise<number | "running"> {
  const options = runOptions(argv);
  if (options.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  if (options.extensions?.length === 0 && options.config === undefined) {
    console.warn("[host] no extensions given: try --extensions agent_bus agent_learning demo");
  }
  // A signal while the extensions load is kept, and honoured once the host can shut down
  // properly; a second one exits at once (a setup that never ends would hold the first for good).
  let early: NodeJS.Signals | undefined;
  const keep = (signal: NodeJS.Signals) => {
    if (early !== undefined) {
      console.error(`[host] ${signal} again while the extensions load: exiting now`);
      process.exit(1);
    }
    early = signal;
    console.error(
      `[host] ${signal} while the extensions load: stopping once they are loaded (again to exit now)`,
    );
  };
  for (const signal of SIGNALS) process.on(signal, keep);
  const { help: _help, transport, ...hostOptions } = options;
  let host: Host;
  let bus: EventBus | undefined;
  try {
    if (transport !== undefined) bus = await connectBus(transport, { onStatus: reportStatus(transport) });
    host = await start(bus === undefined ? hostOptions : { ...hostOptions, bus });
    if (bus !== undefined && transport !== undefined) await settled(bus, transport.connectTimeout);
  } catch (error) {
    // The host closes the bus it ran on; one that never got a host is closed here.
    await bus?.close();
    if (error instanceof PortInUseError || error instanceof ConnectError) {
      console.error(error instanceof ConnectError ? `agent-bus: ${error.message}` : error.message);
      return 1;
    }
    // A bad config file or option value is a usage error: the message says which.
    if (error instanceof TypeError || error instanceof ConfigError) {
      throw new UsageError(error.message.replace(/^\[host\] /u, ""));
    }
    throw error;
  } finally {
    for (const signal of SIGNALS) process.off(signal, keep);
  }
  closeOnSignals(host, { signals: SIGNALS });
  if (early !== undefined) process.kill(process.pid, early);
  else {
    const where = transport === undefined ? "the in-memory bus" : transport.where;
    console.log(banner(host, resolve(options.dataDir ?? DEFAULT_DATA_DIR), where));
  }
  return "running";
}
