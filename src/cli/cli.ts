/** The `agent-bus` command: one function per subcommand, dispatched by name. */
import { UsageError } from "./args.js";
import { MAIN_USAGE, version } from "./help.js";
import { listCommand } from "./list.js";
import { publishCommand } from "./publish.js";
import { runCommand } from "./run.js";
import { tailCommand } from "./tail.js";

/** A subcommand: resolves with an exit code, or "running" when it keeps the process alive. */
type Command = (argv: readonly string[]) => Promise<number | "running">;

/** Subcommands by name. */
const COMMANDS: Readonly<Record<string, Command>> = {
  run: runCommand,
  tail: tailCommand,
  publish: publishCommand,
  list: listCommand,
};

async function dispatch(argv: readonly string[]): Promise<number | "running"> {
  const [first, ...rest] = argv;
  if (first === undefined)
    throw new UsageError(
      `missing command (commands: ${Object.keys(COMMANDS).join(", ")}; see agent-bus --help)`,
    );
  if (first === "--help" || first === "-h" || first === "help") {
    console.log(MAIN_USAGE);
    return 0;
  }
  if (first === "--version" || first === "-v") {
    if (rest.length > 0) throw new UsageError(`--version takes no arguments, got ${JSON.stringify(rest[0])}`);
    console.log(version());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) {
    const what = first.startsWith("-") ? `unknown option ${first}` : `unknown command "${first}"`;
    throw new UsageError(`${what} (commands: ${Object.keys(COMMANDS).join(", ")}; see agent-bus --help)`);
  }
  return command(rest);
}

/** Runs the command line; usage errors print one line and give exit code 2. */
export async function cli(argv: readonly string[]): Promise<number | "running"> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`agent-bus: ${error.message}`);
    return 2;
  }
}
