/** Importing an extension script: TypeScript through tsx, no build step. */
import { pathToFileURL } from "node:url";
import type { ExtensionModule } from "./types.js";

let tsxRegistered: Promise<void> | undefined;

/**
 * Registers tsx's loader hooks once for the process. Global hooks, not `tsImport`: a namespaced
 * import would load a second copy of "agent-bus" for the extension, and with it a second `bus`.
 */
function registerTypeScript(): Promise<void> {
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

/** Imports a script file and checks the shape of what it exports. */
export async function importExtension(script: string): Promise<ExtensionModule> {
  if (/\.[mc]?ts$/u.test(script)) await registerTypeScript();
  const module = (await import(pathToFileURL(script).href)) as Record<string, unknown>;
  const { params, setup, teardown } = module;
  if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) {
    throw new TypeError(`${script}: "params" must be an object, got ${JSON.stringify(params)}`);
  }
  for (const [name, value] of [
    ["setup", setup],
    ["teardown", teardown],
  ] as const) {
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`${script}: "${name}" must be a function, got ${typeof value}`);
    }
  }
  return module as ExtensionModule;
}

/**
 * The npm package an import error says is missing, or undefined for other errors.
 * Node says `Cannot find package 'x' imported from ...`; relative files are not packages.
 */
export function missingPackage(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== "string") return undefined;
  if (
    code !== "ERR_MODULE_NOT_FOUND" &&
    code !== "MODULE_NOT_FOUND" &&
    !/^Cannot find (package|module)/u.test(message)
  ) {
    return undefined;
  }
  const match = /Cannot find (?:package|module) '([^']+)'/u.exec(message);
  const specifier = match?.[1];
  if (specifier === undefined || specifier.startsWith(".") || specifier.startsWith("/")) return undefined;
  if (specifier.startsWith("file:") || specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}
