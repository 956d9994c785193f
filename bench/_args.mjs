/**
 * Command-line options of the bench scripts: `--help` prints the options, and an unknown or
 * malformed one is one line and exit 2, not a stack trace.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";

/** parseArgs with a usage line made from the options themselves. */
export function benchArgs(config) {
  const options = { ...config.options, help: { type: "boolean", default: false } };
  const script = relative(process.cwd(), process.argv[1] ?? "bench");
  const usage = `usage: node ${script} ${Object.entries(config.options)
    .map(([name, option]) => (option.type === "boolean" ? `[--${name}]` : `[--${name} <value>]`))
    .join(" ")}${config.allowPositionals ? " <arguments>" : ""}`;
  let parsed;
  try {
    parsed = parseArgs({ ...config, options });
  } catch (error) {
    console.error(`${script}: ${error.message}\n${usage}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  return parsed;
}
