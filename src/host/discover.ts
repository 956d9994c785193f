/** Finding extension folders: the user's folder first, then the package's bundled ones. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExtensionLocation, ExtensionSource } from "./types.js";

/** Script file names an extension folder may hold, in the order they are looked for. */
export const SCRIPT_NAMES = ["script.ts", "script.js", "script.mjs"] as const;

/** The package's `extensions/` folder (the same from `src/host/` and `dist/host/`). */
export const BUNDLED_EXTENSIONS_DIR = resolve(fileURLToPath(new URL("../../extensions/", import.meta.url)));

/** The user's extensions folder: the given one, or `./extensions` under the working directory. */
export function userExtensionsDir(extensionsDir?: string): string {
  return resolve(extensionsDir ?? "extensions");
}

function scriptIn(folder: string): string | undefined {
  for (const name of SCRIPT_NAMES) {
    const path = resolve(folder, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** The folders searched for extensions, user first. */
export function searchedFolders(extensionsDir?: string): { folder: string; source: ExtensionSource }[] {
  const user = userExtensionsDir(extensionsDir);
  // Run from the package's own folder, ./extensions is the bundled folder: nothing shadows.
  if (user === BUNDLED_EXTENSIONS_DIR) return [{ folder: user, source: "bundled" }];
  return [
    { folder: user, source: "user" },
    { folder: BUNDLED_EXTENSIONS_DIR, source: "bundled" },
  ];
}

/** Where an extension's script is: the user's folder shadows the bundled one; undefined when none has it. */
export function locateExtension(name: string, extensionsDir?: string): ExtensionLocation | undefined {
  // A name is one folder: no path tricks reaching outside the extensions folders.
  if (!/^[\w.-]+$/u.test(name) || name.startsWith(".")) return undefined;
  for (const { folder, source } of searchedFolders(extensionsDir)) {
    const script = scriptIn(resolve(folder, name));
    if (script !== undefined) return { name, source, script };
  }
  return undefined;
}

/** Whether the package bundles an extension of this name (which a user one would shadow). */
export function isBundled(name: string): boolean {
  return /^[\w.-]+$/u.test(name) && scriptIn(resolve(BUNDLED_EXTENSIONS_DIR, name)) !== undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Every available extension, sorted by name; a user extension replaces the bundled one it shadows. */
export function listExtensions(extensionsDir?: string): ExtensionLocation[] {
  const found = new Map<string, ExtensionLocation>();
  for (const { folder, source } of searchedFolders(extensionsDir).reverse()) {
    if (!isDirectory(folder)) continue;
    for (const name of readdirSync(folder)) {
      const script = isDirectory(resolve(folder, name)) ? scriptIn(resolve(folder, name)) : undefined;
      if (script !== undefined) found.set(name, { name, source, script });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
