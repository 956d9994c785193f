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
  agent-bus run --extensions <names> [options]      run the host until Ctrl+C
  agent-bus tail <pattern> --nats <url>             print the events of a distributed bus live
  agent-bus publish <type> [<json>] --nats <url>    publish one event (--request: print the reply)
  agent-bus list [--extensions-dir <dir>]           list available extensions
  agent-bus <command> --help                        help on one command
  agent-bus --version

--redis <url> works wherever --nats <url> does. run, tail and publish use the namespace
"agent-bus" unless --namespace says otherwise, so they meet by default.

Examples:
  agent-bus run --extensions agent_bus agent_learning demo
  agent-bus run --extensions agent_learning --nats nats://127.0.0.1:4222
  agent-bus tail ">" --nats nats://127.0.0.1:4222
  agent-bus publish task_completed '{"task_id":1,"success":true}' --nats nats://127.0.0.1:4222
`;

/** Options of every command on a distributed bus, as they appear in its usage. */
const BUS_OPTIONS = `  --nats <url>              NATS server, like nats://127.0.0.1:4222 (user:password@ allowed)
  --redis <url>             Redis server, like redis://127.0.0.1:6379 (instead of --nats)
  --namespace <ns>          subjects/channels the bus sees (default: agent-bus)
  --connect-timeout <ms>    give up (exit 1) when the server does not answer (default: 5000)`;

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
  --host <address>          address to bind (default: 127.0.0.1); beyond loopback needs a token
  --token <token>           required by every HTTP request, 8 characters or more
                            (default: $AGENT_BUS_TOKEN)
  --no-inspector            serve the extensions' routes only, not the inspector page
${BUS_OPTIONS}
                            without --nats or --redis the host runs on the in-memory bus
  --help                    this help
`;

/** Usage of \`agent-bus list\`. */
export const LIST_USAGE = `Usage: agent-bus list [--extensions-dir <dir>]

Lists the bundled extensions and the user's (./extensions or --extensions-dir), with their
display names; a user extension shadows a bundled one of the same name.
`;

/** Usage of \`agent-bus tail\`. */
export const TAIL_USAGE = `Usage: agent-bus tail <pattern> (--nats <url> | --redis <url>) [options]

Prints the events matching <pattern> (an event type, "task.*" for one token, "task.>" or ">"
for everything) as they are published anywhere on the bus, one line each:
  <time> <type> <source> <data as compact JSON, cut to the terminal's width>
Runs until SIGINT/SIGTERM, then closes the bus and exits 0. Status goes to stderr.

Options:
${BUS_OPTIONS}
  --json                    each event's full CloudEvents JSON, one per line (for jq)
  --help                    this help

Example:
  agent-bus tail ">" --nats nats://127.0.0.1:4222 --json | jq .data
`;

/** Usage of \`agent-bus publish\`. */
export const PUBLISH_USAGE = `Usage: agent-bus publish <type> [<json>] (--nats <url> | --redis <url>) [options]

Publishes one event of <type> with <json> as its data (no data when left out), waits until the
server has it, and exits 0. With --request, sends a request instead and prints the reply as JSON
(exit 1 when nobody answers or the time runs out).

Options:
${BUS_OPTIONS}
  --request                 send a request and print the reply
  --timeout <ms>            with --request: how long to wait for the reply (default: 30000)
  --help                    this help

Examples:
  agent-bus publish task_completed '{"task_id":1,"success":true}' --nats nats://127.0.0.1:4222
  agent-bus publish agent_learning.progress --request --nats nats://127.0.0.1:4222
`;
