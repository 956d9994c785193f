/** Command-line options: a small parser with the forms the CLI documents and exit code 2 on misuse. */

/** A wrong command line: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** How an option takes its value. */
export type OptionKind = "string" | "list" | "port" | "flag";

/** The options a command accepts, by long name without dashes. */
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** Parsed options: strings, lists of names, ports and flags by name; positionals apart. */
export interface ParsedOptions {
  readonly values: Record<string, string | string[] | number | boolean>;
  readonly positionals: string[];
}

function parsePort(text: string, option: string): number {
  const port = Number(text);
  if (!/^\d+$/u.test(text) || port > 65535) {
    throw new UsageError(`${option} must be a port number from 0 to 65535, got "${text}"`);
  }
  return port;
}

/** Names given as `a,b`, `a b` or both, in order, without empty pieces. */
function splitNames(tokens: readonly string[]): string[] {
  return tokens.flatMap((token) => token.split(",")).filter((name) => name.trim() !== "");
}

/**
 * Parses `--name value`, `--name=value`, `--flag` and, for lists, `--name a,b` or `--name a b`
 * (a list takes every following word up to the next option).
 */
export function parseOptions(argv: readonly string[], spec: OptionSpec, command: string): ParsedOptions {
  const values: ParsedOptions["values"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    const [option, inline] = token.includes("=")
      ? [token.slice(0, token.indexOf("=")), token.slice(token.indexOf("=") + 1)]
      : [token, undefined];
    const name = option.replace(/^--?/u, "");
    // Own names only: `--constructor` or `--toString` must not find Object.prototype's members.
    const kind = option.startsWith("--") && Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined)
      throw new UsageError(`unknown option ${option} for "${command}" (see agent-bus ${command} --help)`);
    if (kind === "flag") {
      if (inline !== undefined) throw new UsageError(`${option} takes no value`);
      values[name] = true;
      continue;
    }
    const words: string[] = inline === undefined ? [] : [inline];
    if (kind === "list") {
      while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith("-")) words.push(argv[++i] as string);
    } else if (inline === undefined && i + 1 < argv.length && !(argv[i + 1] as string).startsWith("--")) {
      words.push(argv[++i] as string);
    }
    if (words.length === 0 || words[0] === "") throw new UsageError(`${option} needs a value`);
    if (kind === "list") {
      const previous = values[name];
      values[name] = [...(Array.isArray(previous) ? previous : []), ...splitNames(words)];
    } else {
      values[name] = kind === "port" ? parsePort(words[0] as string, option) : (words[0] as string);
    }
  }
  return { values, positionals };
}
