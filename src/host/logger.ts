/** Loggers whose lines carry the name of who wrote them. */
import type { Logger } from "./types.js";

/** Where log lines go: console by default, replaceable for embedding and tests. */
export type LogSink = Pick<Console, "log" | "warn" | "error">;

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/** A logger prefixing every line with `[name]`; errors are followed by their stack. */
export function createLogger(name: string, sink: LogSink = console): Logger {
  const prefix = `[${name}]`;
  return {
    info: (message) => sink.log(`${prefix} ${message}`),
    warn: (message) => sink.warn(`${prefix} ${message}`),
    error: (message, error) =>
      sink.error(error === undefined ? `${prefix} ${message}` : `${prefix} ${message}\n${describe(error)}`),
  };
}
