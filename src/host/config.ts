/** The config file: default extensions and `<extension>-<param>` overrides, as the original settings file. */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { ExtensionParams, HostConfig, Logger } from "./types.js";

/** A config file that cannot be read or used; the message names the file and the problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads a YAML or JSON config file (JSON is YAML); throws a one-line error naming the file. */
export function readConfigFile(path: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`[host] Cannot read config file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    const document = parseDocument(text);
    // An unknown tag (`!!js/function`, a typo) is an error here, not a warning printed later.
    const [problem] = [...document.errors, ...document.warnings];
    if (problem !== undefined) throw problem;
    parsed = document.toJS();
  } catch (error) {
    throw new ConfigError(
      // The parser's first line says what and where; the excerpt after it would break the
      // one-line usage error the CLI prints.
      `[host] Config file ${path} is not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`,
      {
        cause: error,
      },
    );
  }
  return checkConfig(parsed ?? {}, path);
}

/** A value for an error message; YAML anchors can make cycles that JSON cannot show. */
function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? "a list that contains itself" : "a mapping that contains itself";
  }
}

/** Checks a config object's shape; throws a ConfigError naming what is wrong. */
export function checkConfig(config: unknown, where = "config"): HostConfig {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ConfigError(`[host] ${where} must be a mapping of settings, got ${show(config)}`);
  }
  const defaults = (config as HostConfig).default_extensions;
  if (
    defaults !== undefined &&
    (!Array.isArray(defaults) || defaults.some((name) => typeof name !== "string"))
  ) {
    throw new ConfigError(
      `[host] ${where}: default_extensions must be a list of names, got ${show(defaults)}`,
    );
  }
  return config as HostConfig;
}

/** The names given first, then the config's defaults, each name once. */
export function extensionOrder(explicit: readonly string[], config: HostConfig): string[] {
  return [...new Set([...explicit, ...(config.default_extensions ?? [])])];
}

/**
 * Warns of each config key that can reach no extension of this run: neither `default_extensions`
 * nor `<name>-<param>` for one of `names` (a misspelt name or prefix would otherwise do nothing,
 * silently). Keys of the named extensions are checked against their params when they load.
 */
export function warnUnusedKeys(config: HostConfig, names: readonly string[], log: Logger): void {
  for (const key of Object.keys(config)) {
    if (key === "default_extensions" || names.some((name) => key.startsWith(`${name}-`))) continue;
    log.warn(
      `config key "${key}" ignored: it names no extension of this run (keys are <extension>-<param>; extensions: ${names.join(", ") || "none"})`,
    );
  }
}

/**
 * The script's params with the config's `<name>-<param>` values applied. As in the original
 * host, only params the script declares are overridden; a value of another type is refused.
 */
export function resolveParams(
  name: string,
  declared: ExtensionParams | undefined,
  config: HostConfig,
  log: Logger,
): ExtensionParams {
  const params: ExtensionParams = { ...declared };
  const prefix = `${name}-`;
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(prefix)) continue;
    const param = key.slice(prefix.length);
    if (!Object.hasOwn(params, param)) {
      log.warn(`config key "${key}" ignored: ${name} has no param "${param}"`);
      continue;
    }
    const current = params[param];
    if (current !== null && current !== undefined && typeof current !== typeof value) {
      log.warn(`config key "${key}" ignored: expected a ${typeof current}, got ${show(value)}`);
      continue;
    }
    params[param] = value;
  }
  return params;
}
