/** Loading one extension: find, import, resolve params, run setup; failures become a FailedExtension. */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { EventBus } from "../bus.js";
import { resolveParams } from "./config.js";
import { locateExtension, SCRIPT_NAMES, searchedFolders } from "./discover.js";
import type { RouteTable } from "./http.js";
import { importExtension, missingPackage } from "./import.js";
import { createLogger, type LogSink } from "./logger.js";
import type {
  ExtensionContext,
  FailedExtension,
  HostConfig,
  LoadedExtension,
  Logger,
  Teardown,
} from "./types.js";

/** What the loader needs from the host. */
export interface LoadEnvironment {
  readonly bus: EventBus;
  readonly config: HostConfig;
  readonly extensionsDir: string | undefined;
  readonly dataDir: string;
  readonly routes: RouteTable;
  readonly sink: LogSink;
  readonly log: Logger;
}

/** A loaded extension with what undoes it. */
export interface Started {
  readonly extension: LoadedExtension;
  readonly teardowns: Teardown[];
  readonly abort: AbortController;
}

function notFound(name: string, env: LoadEnvironment): FailedExtension {
  const folders = searchedFolders(env.extensionsDir)
    .map(({ folder }) => folder)
    .join(" and ");
  const message = `unknown extension "${name}": no ${name}/${SCRIPT_NAMES.join(", ")} in ${folders}`;
  env.log.warn(`${message}; skipped`);
  return { name, kind: "not-found", message };
}

function failure(
  name: string,
  stage: "import" | "setup",
  error: unknown,
  env: LoadEnvironment,
): FailedExtension {
  const pkg = missingPackage(error);
  if (pkg !== undefined) {
    const message = `extension "${name}" needs the npm package "${pkg}": run \`npm install ${pkg}\``;
    env.log.error(`${message}; skipped`);
    return { name, kind: "missing-dependency", message, error };
  }
  const reason = error instanceof Error ? error.message : String(error);
  const message = `extension "${name}" failed in ${stage}: ${reason}`;
  env.log.error(`${message}; skipped`, error);
  return { name, kind: stage, message, error };
}

/** Milliseconds after which a setup still running is pointed out. */
export const SLOW_SETUP_MS = 10_000;
const SLOW_SETUP_WARNING = `setup() still running after ${SLOW_SETUP_MS / 1000} s; the host waits for it before the next extension and host.ready (a setup that awaits host.ready waits forever: subscribe to it instead)`;

/**
 * A syntax error that does not say where it is (Node's, for an ES module loaded through hooks)
 * names the script.
 */
function located(error: unknown, script: string): unknown {
  if (!(error instanceof SyntaxError) || `${error.message}\n${error.stack}`.includes(script)) return error;
  const named = new SyntaxError(`${error.message} (in ${script})`, { cause: error });
  // Node's own frames, not this function's.
  named.stack = `SyntaxError: ${named.message}${String(error.stack).slice(String(error.stack).indexOf("\n"))}`;
  return named;
}

/** Loads one extension; resolves with either what started or why it did not. */
export async function loadExtension(name: string, env: LoadEnvironment): Promise<Started | FailedExtension> {
  const location = locateExtension(name, env.extensionsDir);
  if (location === undefined) return notFound(name, env);
  let module: Awaited<ReturnType<typeof importExtension>>;
  try {
    module = await importExtension(location.script);
  } catch (error) {
    return failure(name, "import", located(error, location.script), env);
  }
  const log = createLogger(name, env.sink);
  // Allowed (an extension may only declare params), but a default export in its place is a slip.
  if (module.setup === undefined) {
    const hint =
      (module as { default?: unknown }).default === undefined ? "" : " (a default export is not read)";
    log.warn(`${location.script} exports no setup(): nothing of it runs${hint}`);
  }
  const params = resolveParams(name, module.params, env.config, log);
  const abort = new AbortController();
  const dataDir = resolve(env.dataDir, name);
  const ctx: ExtensionContext = {
    name,
    bus: env.bus,
    params,
    log,
    dataDir,
    http: env.routes.scoped(name),
    signal: abort.signal,
  };
  let returned: unknown;
  // The host loads extensions one after another: a setup that never ends holds up every other.
  const slow = setTimeout(() => log.warn(SLOW_SETUP_WARNING), SLOW_SETUP_MS);
  slow.unref?.();
  try {
    mkdirSync(dataDir, { recursive: true });
    returned = await module.setup?.(ctx);
  } catch (error) {
    // Undo what the failed setup managed to register through ctx.
    abort.abort(error);
    env.routes.removeOwner(name);
    return failure(name, "setup", error, env);
  } finally {
    clearTimeout(slow);
  }
  const teardowns: Teardown[] = [];
  if (typeof returned === "function") teardowns.push(returned as Teardown);
  if (module.teardown !== undefined) teardowns.push(module.teardown);
  const displayName = typeof params.display_name === "string" ? params.display_name : name;
  return { extension: { ...location, displayName, params }, teardowns, abort };
}
