/** Importing an extension script: TypeScript through tsx, no build step. */
import { register as registerHooks } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { ExtensionModule } from "./types.js";

let tsxRegistered: Promise<void> | undefined;
const esmFolders = new Set<string>();

/**
 * Loader hook run before tsx's: a `.ts` file inside an extension folder is an ES module even
 * where the nearest package.json does not say `"type": "module"` (or there is none, as in a
 * fresh folder), where tsx would load it as CommonJS.
 */
const ESM_FOLDER_HOOK = `
let folder;
export function initialize(data) { folder = data.folder; }
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (result.url.startsWith(folder) && /\\.tsx?$/.test(new URL(result.url).pathname) && result.format !== "module") {
    return { ...result, format: "module" };
  }
  return result;
}`;

/**
 * Registers tsx's loader hooks once for the process, then the ES module hook for the folder.
 * Global hooks, not `tsImport`: a namespaced import would load a second copy of "agent-bus"
 * for the extension, and with it a second `bus`.
 */
async function registerTypeScript(folder: string): Promise<void> {
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  await tsxRegistered;
  if (esmFolders.has(folder)) return;
  esmFolders.add(folder);
  const hook = `data:text/javascript,${encodeURIComponent(ESM_FOLDER_HOOK)}`;
  registerHooks(hook, { data: { folder } });
}

/** Imports a script file and checks the shape of what it exports. */
export async function importExtension(script: string): Promise<ExtensionModule> {
  if (/\.[mc]?ts$/u.test(script)) await registerTypeScript(pathToFileURL(`${dirname(script)}/`).href);
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
