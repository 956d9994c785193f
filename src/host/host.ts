/** createHost: loads extensions in order onto one bus, serves their routes, undoes it all on close. */
import type { Server } from "node:http";
import { resolve } from "node:path";
import { shownValue } from "../_checks.js";
import { within } from "../_within.js";
import type { EventBus } from "../bus.js";
import { bus as sharedBus } from "../index.js";
import { attachInspector, type Inspector } from "../inspector/index.js";
import { checkAccess } from "./access.js";
import { checkConfig, extensionOrder, readConfigFile, warnUnusedKeys } from "./config.js";
import { RouteTable, type ServerAccess, startHttpServer, stopHttpServer } from "./http.js";
import { type LoadEnvironment, loadExtension, type Started } from "./load.js";
import { createLogger } from "./logger.js";
import type { FailedExtension, Host, HostConfig, HostOptions, LoadedExtension, Logger } from "./types.js";

/** The lifecycle events the host publishes on its bus. */
export const HOST_EVENTS = {
  /** One per extension whose setup finished: `{ name, displayName, source, script }`. */
  loaded: "host.extension.loaded",
  /** One per extension that did not load: `{ name, kind, message }`. */
  failed: "host.extension.failed",
  /** Once every extension was tried: `{ loaded: string[], failed: string[], url }`. */
  ready: "host.ready",
  /** Before the teardowns run: `{ reason }`. */
  shutdown: "host.shutdown",
} as const;

/** The default root of the extensions' data folders, under the working directory. */
export const DEFAULT_DATA_DIR = ".agent-bus-data";

function checkOptions(options: HostOptions): void {
  const { extensions, port, teardownTimeout } = options;
  if (
    extensions !== undefined &&
    (!Array.isArray(extensions) || extensions.some((n) => typeof n !== "string"))
  ) {
    throw new TypeError(`extensions must be a list of names, got ${JSON.stringify(extensions)}`);
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${shownValue(port)}`);
  }
  if (teardownTimeout !== undefined && !(typeof teardownTimeout === "number" && teardownTimeout > 0)) {
    throw new TypeError(`teardownTimeout must be a positive number, got ${shownValue(teardownTimeout)}`);
  }
  if (port !== undefined) checkAccess(options.hostname ?? "127.0.0.1", options.token);
}

/** The address a browser on this machine uses: a wildcard bind is reached through loopback. */
function urlOf(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function loadConfig(config: HostOptions["config"]): HostConfig {
  if (config === undefined) return {};
  return typeof config === "string" ? readConfigFile(config) : checkConfig(config);
}

async function tearDown(started: Started, ms: number, log: Logger): Promise<void> {
  const { name } = started.extension;
  started.abort.abort(new Error("host shutdown"));
  for (const teardown of started.teardowns) {
    try {
      const inTime = await within(Promise.resolve().then(teardown), ms);
      if (!inTime) log.warn(`teardown of ${name} still running after ${ms} ms; moving on`);
    } catch (error) {
      log.error(`teardown of ${name} failed`, error);
    }
  }
}

function publishSafely(bus: EventBus, eventType: string, data: unknown, log: Logger): void {
  try {
    bus.publish(eventType, data);
  } catch (error) {
    log.error(`could not publish ${eventType}`, error);
  }
}

/** What the host loaded, what failed, and what to undo. */
interface Outcome {
  readonly loaded: LoadedExtension[];
  readonly failed: FailedExtension[];
  readonly started: Started[];
}

/** Loads the extensions one after the other, publishing one lifecycle event for each. */
async function loadAll(names: readonly string[], env: LoadEnvironment, outcome: Outcome): Promise<void> {
  const { bus, log } = env;
  for (const name of names) {
    const result = await loadExtension(name, env);
    if ("kind" in result) {
      outcome.failed.push(result);
      publishSafely(bus, HOST_EVENTS.failed, { name, kind: result.kind, message: result.message }, log);
      continue;
    }
    outcome.started.push(result);
    outcome.loaded.push(result.extension);
    const { displayName, source, script } = result.extension;
    publishSafely(bus, HOST_EVENTS.loaded, { name, displayName, source, script }, log);
  }
}

/** Starts the HTTP server when a port is given; the host's own route `/` lists what runs. */
async function serve(routes: RouteTable, outcome: Outcome, port: number | undefined, access: ServerAccess) {
  // A fallback, so the inspector (or an extension) can take "/" for a page of its own.
  routes.fallback("host", "GET", "/", () => ({
    extensions: outcome.loaded.map(({ name, displayName, source }) => ({ name, displayName, source })),
    failed: outcome.failed.map(({ name, kind, message }) => ({ name, kind, message })),
    routes: routes.list(),
  }));
  if (port === undefined) return undefined;
  const server = await startHttpServer(routes, port, access);
  const address = server.address();
  const url = urlOf(
    access.hostname ?? "127.0.0.1",
    typeof address === "object" && address ? address.port : port,
  );
  return { server, url };
}

/** Announces the shutdown, tears down in reverse load order, stops the server, closes the bus. */
async function shutdown(
  env: LoadEnvironment,
  outcome: Outcome,
  served: { server: Server; inspector: Inspector | undefined } | undefined,
  reason: string,
  teardownTimeout: number,
): Promise<void> {
  const { bus, log } = env;
  try {
    await within(bus.publishAsync(HOST_EVENTS.shutdown, { reason }), teardownTimeout);
  } catch (error) {
    log.error(`could not publish ${HOST_EVENTS.shutdown}`, error);
  }
  for (const started of [...outcome.started].reverse()) await tearDown(started, teardownTimeout, log);
  served?.inspector?.close();
  if (served !== undefined) await stopHttpServer(served.server);
  await bus.close();
}

/**
 * Starts a host: loads the extensions one after the other, then publishes `host.ready`.
 * @example
 * import { createHost } from "agent-bus/host";
 * const host = await createHost({ extensions: ["agent_learning"], port: 0 });
 * console.log(host.url, host.extensions.loaded.map((e) => e.name));
 * await host.close();
 */
export async function createHost(options: HostOptions = {}): Promise<Host> {
  checkOptions(options);
  const config = loadConfig(options.config);
  const sink = options.console ?? console;
  // A handler's failure is the extension's: logged under its name, beside the client's 500.
  const routes = new RouteTable((route, error) =>
    createLogger(route.owner, sink).error(`${route.method} ${route.path} failed; answered 500`, error),
  );
  const env: LoadEnvironment = {
    bus: options.bus ?? sharedBus,
    config,
    extensionsDir: options.extensionsDir,
    dataDir: resolve(options.dataDir ?? DEFAULT_DATA_DIR),
    routes,
    sink,
    log: createLogger("host", sink),
  };
  const outcome: Outcome = { loaded: [], failed: [], started: [] };
  // The server starts first so a taken port fails before any setup has side effects.
  const served = await serve(routes, outcome, options.port, {
    hostname: options.hostname,
    token: options.token,
  });
  // Mounted before the extensions load, so the page shows their lifecycle events too.
  const inspector =
    served === undefined || options.inspector === false
      ? undefined
      : attachInspector({
          bus: env.bus,
          http: routes.scoped("inspector"),
          extensions: () => ({
            loaded: outcome.loaded.map(({ name, displayName, source }) => ({ name, displayName, source })),
            failed: outcome.failed.map(({ name, kind, message }) => ({ name, kind, message })),
          }),
        });
  const names = extensionOrder(options.extensions ?? [], config);
  warnUnusedKeys(config, names, env.log);
  await loadAll(names, env, outcome);
  const { loaded, failed } = outcome;
  const ready = { loaded: loaded.map((e) => e.name), failed: failed.map((e) => e.name), url: served?.url };
  publishSafely(env.bus, HOST_EVENTS.ready, ready, env.log);
  let closing: Promise<void> | undefined;
  return {
    bus: env.bus,
    extensions: { loaded, failed },
    url: served?.url,
    http: routes.scoped("host"),
    close: (reason = "close") => {
      const server = served && { server: served.server, inspector };
      closing ??= shutdown(env, outcome, server, reason, options.teardownTimeout ?? 5000);
      return closing;
    },
  };
}
