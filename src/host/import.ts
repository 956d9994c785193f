/** Importing an extension script: TypeScript through tsx, no build step. */
import { readFileSync } from "node:fs";
import { register as registerHooks } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { compileFunction } from "node:vm";
import { describeValue } from "../_checks.js";
import type { ExtensionModule } from "./types.js";

let tsxRegistered: Promise<void> | undefined;
const esmFolders = new Set<string>();

/**
 * The `"type"` of the package.json nearest to a file: "module", "commonjs", or undefined where
 * none says. Self-contained (no imports but readFileSync): the loader hook below runs its source.
 */
function declaredType(url: URL): string | undefined {
  for (let dir = new URL(".", url); ; dir = new URL("..", dir)) {
    try {
      return JSON.parse(readFileSync(new URL("package.json", dir), "utf8")).type;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ENOENT" || dir.pathname === "/") return undefined;
    }
  }
}

/**
 * Whether an extension's `.js` file is an ES module: as its package.json says, else as Node
 * itself decides for a file no package.json types, by its syntax (what does not parse as CommonJS
 * is read as a module). Self-contained, like `declaredType`, which it calls.
 */
function isModuleScript(url: URL): boolean {
  const type = declaredType(url);
  if (type !== undefined) return type === "module";
  try {
    compileFunction(readFileSync(url, "utf8"), ["exports", "require", "module", "__filename", "__dirname"]);
    return false;
  } catch {
    return true;
  }
}

/**
 * Loader hook run before tsx's: inside an extension folder, a `.ts` file is an ES module even
 * where the nearest package.json does not say `"type": "module"` (or there is none, as in a
 * fresh folder), where tsx would load it as CommonJS; a `.js` file is what `isModuleScript` says,
 * as Node would: once tsx's hooks are in place tsx decides, and it said CommonJS for every `.js`
 * without a type (an ES `script.js` loaded after any TypeScript extension failed with
 * ERR_REQUIRE_CYCLE_MODULE), and forcing ES broke CommonJS ones.
 */
const ESM_FOLDER_HOOK = `
import { readFileSync } from "node:fs";
import { compileFunction } from "node:vm";
let folder;
export function initialize(data) { folder = data.folder; }
${declaredType.toString()}
${isModuleScript.toString()}
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (!result.url.startsWith(folder) || result.format === "module") return result;
  const url = new URL(result.url);
  if (/\\.tsx?$/.test(url.pathname) || (/\\.js$/.test(url.pathname) && isModuleScript(url))) {
    return { ...result, format: "module" };
  }
  return result;
}`;

/**
 * Registers tsx's loader hooks once for the process. Global hooks, not `tsImport`: a namespaced
 * import would load a second copy of "agent-bus" for the extension, and with it a second `bus`.
 */
async function registerTypeScript(): Promise<void> {
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  await tsxRegistered;
}

/** Registers the ES module hook for an extension folder, once. */
function registerEsmFolder(folder: string): void {
  if (esmFolders.has(folder)) return;
  esmFolders.add(folder);
  const hook = `data:text/javascript,${encodeURIComponent(ESM_FOLDER_HOOK)}`;
  registerHooks(hook, { data: { folder } });
}

/**
 * A CommonJS script's interface: its module.exports, which Node's ES view gives as `default` (its
 * named exports only where a static scan finds them: not `setup(ctx) {}` in a literal), or a
 * function exported whole, as its setup.
 */
function commonJsInterface(imported: Record<string, unknown>): Record<string, unknown> {
  const exported = imported.default;
  if (typeof exported === "function" && imported.setup === undefined) return { setup: exported };
  if (typeof exported === "object" && exported !== null) return exported as Record<string, unknown>;
  return imported;
}

/** Imports a script file and checks the shape of what it exports. */
export async function importExtension(script: string): Promise<ExtensionModule> {
  const folder = pathToFileURL(`${dirname(script)}/`).href;
  if (/\.[mc]?ts$/u.test(script)) await registerTypeScript();
  // Only once tsx is in place does a folder need the hook: before, Node reads the script itself.
  if (tsxRegistered !== undefined) registerEsmFolder(folder);
  const url = pathToFileURL(script);
  const imported = (await import(url.href)) as Record<string, unknown>;
  const commonJs = /\.cjs$/u.test(script) || (/\.js$/u.test(script) && !isModuleScript(url));
  const module = commonJs ? commonJsInterface(imported) : imported;
  const { params, setup, teardown } = module;
  if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) {
    throw new TypeError(`${script}: "params" must be an object, got ${JSON.stringify(params)}`);
  }
  for (const [name, value] of [
    ["setup", setup],
    ["teardown", teardown],
  ] as const) {
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`${script}: "${name}" must be a function, got ${describeValue(value)}`);
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
