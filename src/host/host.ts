/** createHost: loads extensions in order onto one bus, serves their routes, undoes it all on close. */
import type { Server } from "node:http";
import { resolve } from "node:path";
import type { EventBus } from "../bus.js";
import { bus as sharedBus } from "../index.js";
import { checkConfig, extensionOrder, readConfigFile } from "./config.js";
import { RouteTable, startHttpServer, stopHttpServer } from "./http.js";
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
    throw new TypeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (teardownTimeout !== undefined && !(typeof teardownTimeout === "number" && teardownTimeout > 0)) {
    throw new TypeError(`teardownTimeout must be a positive number, got ${String(teardownTimeout)}`);
  }
}

function loadConfig(config: HostOptions["config"]): HostConfig {
  if (config === undefined) return {};
  return typeof config === "string" ? readConfigFile(config) : checkConfig(config);
}

/** Resolves when the promise settles or the time is up, whichever comes first; true if in time. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
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
  const log = createLogger("host", sink);
  const bus = options.bus ?? sharedBus;
  const routes = new RouteTable();
  const teardownTimeout = options.teardownTimeout ?? 5000;
  const loaded: LoadedExtension[] = [];
  const failed: FailedExtension[] = [];
  const started: Started[] = [];
  routes.scoped("host").route("GET", "/", () => ({
    extensions: loaded.map(({ name, displayName, source }) => ({ name, displayName, source })),
    failed: failed.map(({ name, kind, message }) => ({ name, kind, message })),
    routes: routes.list(),
  }));
  let server: Server | undefined;
  let url: string | undefined;
  if (options.port !== undefined) {
    server = await startHttpServer(routes, options.port);
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : options.port}`;
  }
  const env: LoadEnvironment = {
    bus,
    config,
    extensionsDir: options.extensionsDir,
    dataDir: resolve(options.dataDir ?? DEFAULT_DATA_DIR),
    routes,
    sink,
    log,
  };
  for (const name of extensionOrder(options.extensions ?? [], config)) {
    const outcome = await loadExtension(name, env);
    if ("kind" in outcome) {
      failed.push(outcome);
      const { kind, message } = outcome;
      publishSafely(bus, HOST_EVENTS.failed, { name, kind, message }, log);
      continue;
    }
    started.push(outcome);
    loaded.push(outcome.extension);
    const { displayName, source, script } = outcome.extension;
    publishSafely(bus, HOST_EVENTS.loaded, { name, displayName, source, script }, log);
  }
  publishSafely(
    bus,
    HOST_EVENTS.ready,
    { loaded: loaded.map((e) => e.name), failed: failed.map((e) => e.name), url },
    log,
  );

  let closing: Promise<void> | undefined;
  const close = async (reason: string): Promise<void> => {
    try {
      const announced = bus.publishAsync(HOST_EVENTS.shutdown, { reason });
      await within(announced, teardownTimeout);
    } catch (error) {
      log.error(`could not publish ${HOST_EVENTS.shutdown}`, error);
    }
    for (const extension of [...started].reverse()) await tearDown(extension, teardownTimeout, log);
    if (server !== undefined) await stopHttpServer(server);
    await bus.close();
  };
  return {
    bus,
    extensions: { loaded, failed },
    url,
    http: routes.scoped("host"),
    close: (reason = "close") => {
      closing ??= close(reason);
      return closing;
    },
  };
}
