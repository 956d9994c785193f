/** `agent-bus tail`: the events of a distributed bus as they happen, one line each, until a signal. */
import type { Envelope } from "../envelope.js";
import { assertPattern } from "../patterns.js";
import { type OptionSpec, parseOptions, UsageError } from "./args.js";
import { TAIL_USAGE } from "./help.js";
import { ConnectError, chooseTransport, connectBus, describeStatus, TRANSPORT_OPTIONS } from "./transport.js";

const TAIL_OPTIONS: OptionSpec = { ...TRANSPORT_OPTIONS, json: "flag", help: "flag" };

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** Characters of data on a line when the output is not a terminal. */
const PIPED_DATA_WIDTH = 200;

/** Fewest characters of data on a line, however narrow the terminal. */
const MIN_DATA_WIDTH = 20;

/** The envelope as CloudEvents JSON; binary data as `data_base64`, as the JSON format has it. */
export function toJsonLine(envelope: Envelope): string {
  const { data, ...attributes } = envelope;
  if (data instanceof Uint8Array) {
    return `${JSON.stringify({ ...attributes, data_base64: Buffer.from(data).toString("base64") })}\n`;
  }
  try {
    return `${JSON.stringify(envelope)}\n`;
  } catch (error) {
    return `${JSON.stringify({ ...attributes, data: `[unserializable: ${(error as Error).message}]` })}\n`;
  }
}

function describeData(data: unknown): string {
  if (data === undefined) return "";
  if (data instanceof Uint8Array) return `<${data.length} bytes>`;
  try {
    return JSON.stringify(data);
  } catch (error) {
    return `[unserializable: ${(error as Error).message}]`;
  }
}

function clock(time: string): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return time;
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * `time type source data` with the data as compact JSON, cut to fit the terminal
 * (or 200 characters when piped).
 */
export function toTextLine(envelope: Envelope, columns?: number): string {
  const head = `${clock(envelope.time)} ${envelope.type} ${envelope.source}`;
  const data = describeData(envelope.data);
  const width =
    columns === undefined ? PIPED_DATA_WIDTH : Math.max(MIN_DATA_WIDTH, columns - head.length - 1);
  const shown = data.length > width ? `${data.slice(0, width - 1)}…` : data;
  return shown === "" ? `${head}\n` : `${head} ${shown}\n`;
}

/** Resolves at the first SIGINT/SIGTERM, or when stdout's reader went away (`| head`). */
function untilStopped(): { stopped: Promise<void>; dispose(): void } {
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onSignal = () => stop();
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    stop();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.stdout.on("error", onOutputError);
  return {
    stopped,
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
    },
  };
}

function parseTail(argv: readonly string[]) {
  const { values, positionals } = parseOptions(argv, TAIL_OPTIONS, "tail");
  if (values.help === true) return undefined;
  const [pattern, extra] = positionals;
  if (pattern === undefined)
    throw new UsageError('missing <pattern>: an event type, "task.*", or ">" for all');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (one pattern per tail)`);
  try {
    assertPattern(pattern);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const choice = chooseTransport(values);
  if (choice === undefined) throw new UsageError("tail needs --nats <url> or --redis <url>");
  return { pattern, choice, json: values.json === true };
}

/** Prints the matching events until SIGINT/SIGTERM, then closes the bus; resolves with the exit code. */
export async function tailCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseTail(argv);
  if (parsed === undefined) {
    console.log(TAIL_USAGE);
    return 0;
  }
  const { pattern, choice, json } = parsed;
  const stop = untilStopped();
  let connected = false;
  try {
    const bus = await connectBus(choice, {
      // The first connection is announced below, with the pattern; later changes here.
      onStatus: (status) => {
        if (connected) console.error(describeStatus(status, choice));
      },
    }).catch((error: unknown) => {
      if (!(error instanceof ConnectError)) throw error;
      console.error(`agent-bus: ${error.message}`);
      return undefined;
    });
    if (bus === undefined) return 1;
    const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
    bus.subscribe(pattern, (_data, envelope) => {
      process.stdout.write(json ? toJsonLine(envelope) : toTextLine(envelope, columns));
    });
    await bus.ready();
    connected = true;
    console.error(`[tail] "${pattern}" on ${choice.where} · Ctrl+C to stop`);
    await stop.stopped;
    connected = false;
    await bus.close();
    return 0;
  } finally {
    stop.dispose();
  }
}
