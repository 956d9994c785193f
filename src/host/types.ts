/** The shapes an extension and an embedder see: context, module, options, outcome. */
import type { EventBus } from "../bus.js";
import type { HttpRoutes } from "./http.js";

/** A logger whose lines start with `[<extension name>]`. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

/** An extension's settings: `display_name` and whatever else it declares, overridable by config. */
export type ExtensionParams = { display_name?: string } & Record<string, unknown>;

/** What `setup(ctx)` receives. */
export interface ExtensionContext<Params extends ExtensionParams = ExtensionParams> {
  /** The extension's folder name. */
  readonly name: string;
  /** The host's bus: the one instance every extension shares. */
  readonly bus: EventBus;
  /** The script's `params`, with the config file's `<name>-<param>` overrides applied. */
  readonly params: Params;
  /** Logs with the extension's name as prefix. */
  readonly log: Logger;
  /** A folder for the extension's files, `<dataDir>/<name>`, created before setup. */
  readonly dataDir: string;
  /** Registers routes on the host's HTTP server (kept even when the server is off). */
  readonly http: HttpRoutes;
  /** Aborted when the host shuts down: pass it to `subscribe(..., { signal })`. */
  readonly signal: AbortSignal;
}

/** A teardown: undoes what setup did; may be async. */
export type Teardown = () => unknown;

/** What a `script.ts` / `script.js` / `script.mjs` may export. */
export interface ExtensionModule {
  params?: ExtensionParams;
  setup?: (ctx: ExtensionContext) => unknown;
  teardown?: Teardown;
}

/** Where an extension was found. */
export type ExtensionSource = "bundled" | "user";

/** An extension folder found on disk, not yet loaded. */
export interface ExtensionLocation {
  readonly name: string;
  readonly source: ExtensionSource;
  /** Absolute path of the script file. */
  readonly script: string;
}

/** An extension whose setup finished. */
export interface LoadedExtension extends ExtensionLocation {
  readonly displayName: string;
  readonly params: ExtensionParams;
}

/** Why an extension did not load. */
export type FailureKind = "not-found" | "import" | "setup" | "missing-dependency";

/** An extension that did not load, and why. */
export interface FailedExtension {
  readonly name: string;
  readonly kind: FailureKind;
  /** One line saying what went wrong and what to do. */
  readonly message: string;
  readonly error?: unknown;
}

/** Parsed config file: default extensions and `<extension>-<param>` overrides. */
export interface HostConfig {
  /** Extensions loaded after those given explicitly, duplicates dropped. */
  default_extensions?: string[];
  /** `<extension>-<param>` keys override that extension's params. */
  [key: string]: unknown;
}

/** Options of `createHost()`. */
export interface HostOptions {
  /** Extension names, in load order. */
  extensions?: readonly string[];
  /**
   * Folder of user extensions; shadows bundled ones of the same name.
   * @default "./extensions" under the working directory
   */
  extensionsDir?: string;
  /**
   * Root of the extensions' data folders.
   * @default "./.agent-bus-data" under the working directory
   */
  dataDir?: string;
  /** A config object, or the path of a YAML or JSON config file. */
  config?: HostConfig | string;
  /** Starts the HTTP server on 127.0.0.1 at this port (0 = any free port); none when left out. */
  port?: number;
  /**
   * Address the HTTP server binds to; any other than loopback requires `token`.
   * @default "127.0.0.1"
   */
  hostname?: string;
  /** Required by every HTTP request when set (at least 8 characters); never logged. */
  token?: string;
  /**
   * Serves the inspector page, its API and `/metrics` on the HTTP server.
   * @default true when `port` is given
   */
  inspector?: boolean;
  /**
   * The bus to host; `host.close()` closes it.
   * @default the shared `bus` exported by "agent-bus"
   */
  bus?: EventBus;
  /**
   * Where host and extension log lines go.
   * @default console
   */
  console?: Pick<Console, "log" | "warn" | "error">;
  /**
   * Longest wait for one teardown at shutdown, in milliseconds.
   * @default 5000
   */
  teardownTimeout?: number;
}

/** A running host. */
export interface Host {
  readonly bus: EventBus;
  /** What loaded (in order) and what failed, with the reason. */
  readonly extensions: { readonly loaded: LoadedExtension[]; readonly failed: FailedExtension[] };
  /** `http://127.0.0.1:<port>` when the server runs. */
  readonly url: string | undefined;
  /** Routes for the host's HTTP server. */
  readonly http: HttpRoutes;
  /** Publishes `host.shutdown`, runs teardowns in reverse load order, stops the server, closes the bus. */
  close(reason?: string): Promise<void>;
}
