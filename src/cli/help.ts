/** Usage text and version of the `agent-bus` command. */
import { readFileSync } from "node:fs";

/** The package version, read from package.json (the same path from `src/cli/` and `dist/cli/`). */
export function version(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** Usage of the whole command. */
export const MAIN_USAGE = `agent-bus: run extensions on an event bus

Usage:
  agent-bus run --extensions <names> [options]   run the host until Ctrl+C
  agent-bus list [--extensions-dir <dir>]        list available extensions
  agent-bus <command> --help                     help on one command
  agent-bus --version

Example:
  agent-bus run --extensions agent_bus agent_learning demo
`;

/** Usage of \`agent-bus run\`. */
export const RUN_USAGE = `Usage: agent-bus run --extensions <names> [options]

Loads the extensions in the order given, serves HTTP on 127.0.0.1, runs until SIGINT/SIGTERM,
then runs the teardowns in reverse order and exits 0.

Options:
  --extensions <names>      names as "a,b" or "a b" (config default_extensions are appended)
  --extensions-dir <dir>    user extensions folder, shadowing bundled ones (default: ./extensions)
  --config <file>           YAML or JSON settings: default_extensions, <extension>-<param> overrides
  --data-dir <dir>          root of the extensions' data folders (default: ./.agent-bus-data)
  --port <n>                HTTP port; 0 picks a free one (default: 4319, or a free one when
                            4319 is taken). The inspector page is at http://127.0.0.1:<port>/
  --host <address>          address to bind (default: 127.0.0.1); any other needs a token
  --token <token>           required by every HTTP request (default: $AGENT_BUS_TOKEN)
  --no-inspector            serve the extensions' routes only, not the inspector page
  --help                    this help
`;

/** Usage of \`agent-bus list\`. */
export const LIST_USAGE = `Usage: agent-bus list [--extensions-dir <dir>]

Lists the bundled extensions and the user's (./extensions or --extensions-dir), with their
display names; a user extension shadows a bundled one of the same name.
`;
