/** `agent-bus list`: the extensions available, bundled and user, with their display names. */
import { existsSync } from "node:fs";
import { importExtension, isBundled, listExtensions } from "../host/index.js";
import { type OptionSpec, parseOptions, UsageError } from "./args.js";
import { LIST_USAGE } from "./help.js";

const LIST_OPTIONS: OptionSpec = { "extensions-dir": "string", help: "flag" };

async function displayName(script: string): Promise<string> {
  try {
    const { params } = await importExtension(script);
    return typeof params?.display_name === "string" ? params.display_name : "";
  } catch (error) {
    return `(cannot load: ${error instanceof Error ? error.message.split("\n")[0] : String(error)})`;
  }
}

/** Prints one line per available extension; resolves with the exit code. */
export async function listCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, LIST_OPTIONS, "list");
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.help === true) {
    console.log(LIST_USAGE);
    return 0;
  }
  const dir = values["extensions-dir"] as string | undefined;
  // A folder given by hand that is not there is likely a typo: listing the bundled ones alone hides it.
  if (dir !== undefined && !existsSync(dir))
    console.warn(`agent-bus: no folder ${dir}: only bundled extensions listed`);
  const extensions = listExtensions(dir);
  const rows = [["NAME", "DISPLAY NAME", "SOURCE"]];
  for (const extension of extensions) {
    let source: string = extension.source;
    if (source === "user" && isBundled(extension.name)) {
      source = "user (shadows bundled)";
    }
    rows.push([extension.name, await displayName(extension.script), source]);
  }
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  for (const row of rows) {
    console.log(
      `${(row[0] as string).padEnd(widths[0] as number)}  ${(row[1] as string).padEnd(widths[1] as number)}  ${row[2]}`,
    );
  }
  return 0;
}
