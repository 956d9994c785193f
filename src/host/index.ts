/**
 * agent-bus/host: loads extensions onto one bus, with lifecycle events and a small HTTP server.
 * @example
 * import { createHost } from "agent-bus/host";
 * const host = await createHost({ extensions: ["agent_learning", "demo"], port: 0 });
 * console.log(`serving on ${host.url}`);
 * await host.close();
 */
export { ConfigError, checkConfig, readConfigFile } from "./config.js";
export {
  BUNDLED_EXTENSIONS_DIR,
  isBundled,
  listExtensions,
  locateExtension,
  userExtensionsDir,
} from "./discover.js";
export { createHost, DEFAULT_DATA_DIR, HOST_EVENTS } from "./host.js";
export type { HttpRoutes, RouteHandler, RouteInfo } from "./http.js";
export { DEFAULT_PORT, PortInUseError } from "./http.js";
export { importExtension } from "./import.js";
export { createLogger } from "./logger.js";
export type { CloseOnSignalsOptions } from "./signals.js";
export { closeOnSignals } from "./signals.js";
export type {
  ExtensionContext,
  ExtensionLocation,
  ExtensionModule,
  ExtensionParams,
  ExtensionSource,
  FailedExtension,
  FailureKind,
  Host,
  HostConfig,
  HostOptions,
  LoadedExtension,
  Logger,
  Teardown,
} from "./types.js";
