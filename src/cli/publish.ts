/** `agent-bus publish`: one event (or one request) on a distributed bus, then exit once it is sent. */
import { randomUUID } from "node:crypto";
import { DEFAULT_REQUEST_TIMEOUT } from "../_responders.js";
import type { EventBus } from "../bus.js";
import { AgentBusError } from "../errors.js";
import { assertEventType } from "../patterns.js";
import { type OptionSpec, parseOptions, UsageError } from "./args.js";
import { PUBLISH_USAGE } from "./help.js";
import {
  ConnectError,
  chooseTransport,
  connectBus,
  TRANSPORT_OPTIONS,
  type TransportChoice,
} from "./transport.js";

const PUBLISH_OPTIONS: OptionSpec = {
  ...TRANSPORT_OPTIONS,
  request: "flag",
  timeout: "string",
  help: "flag",
};

interface PublishLine {
  readonly eventType: string;
  readonly data: unknown;
  readonly choice: TransportChoice;
  /** Set with `--request`: milliseconds to wait for the reply. */
  readonly request: number | undefined;
}

function parseData(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`<json> is not valid JSON (${(error as Error).message}); quote it, like '{"id":1}'`);
  }
}

function parseTimeout(text: string | undefined, request: boolean): number | undefined {
  if (text !== undefined && !request) throw new UsageError("--timeout goes with --request");
  if (!request) return undefined;
  if (text === undefined) return DEFAULT_REQUEST_TIMEOUT;
  if (!/^\d+$/u.test(text) || Number(text) < 1) {
    throw new UsageError(`--timeout must be a positive number of milliseconds, got "${text}"`);
  }
  return Number(text);
}

function parsePublish(argv: readonly string[]): PublishLine | undefined {
  const { values, positionals } = parseOptions(argv, PUBLISH_OPTIONS, "publish");
  if (values.help === true) return undefined;
  const [eventType, json, extra] = positionals;
  if (eventType === undefined) throw new UsageError("missing <type>: the event type to publish");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (quote the JSON data)`);
  try {
    assertEventType(eventType, "<type>");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const data = parseData(json);
  const request = parseTimeout(values.timeout as string | undefined, values.request === true);
  const choice = chooseTransport(values);
  if (choice === undefined) throw new UsageError("publish needs --nats <url> or --redis <url>");
  return { eventType, data, choice, request };
}

/** Sends the request, prints the reply as JSON on stdout; 1 when nobody answered or it failed. */
async function request(bus: EventBus, line: PublishLine, timeout: number): Promise<number> {
  try {
    const reply = await bus.request(line.eventType, line.data, { timeout });
    if (reply instanceof Uint8Array) process.stdout.write(reply);
    else console.log(JSON.stringify(reply) ?? "null");
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^\[EventBus\] /u, "") : String(error);
    const name = error instanceof Error ? error.name : "Error";
    console.error(`agent-bus: ${name}: ${message} (on ${line.choice.where})`);
    return 1;
  }
}

/** Publishes one event and waits until the broker has it; resolves with the exit code. */
export async function publishCommand(argv: readonly string[]): Promise<number> {
  const line = parsePublish(argv);
  if (line === undefined) {
    console.log(PUBLISH_USAGE);
    return 0;
  }
  let bus: EventBus;
  try {
    bus = await connectBus(line.choice);
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    console.error(`agent-bus: ${error.message}`);
    return 1;
  }
  try {
    if (line.request !== undefined) return await request(bus, line, line.request);
    const id = randomUUID();
    bus.publish(line.eventType, line.data, { id });
    // close() drains: it resolves once the broker has every publish.
    await bus.close();
    console.error(`[publish] "${line.eventType}" ${id} on ${line.choice.where}`);
    return 0;
  } catch (error) {
    if (!(error instanceof AgentBusError)) throw error;
    console.error(`agent-bus: ${error.message.replace(/^\[EventBus(:\w+)?\] /u, "")}`);
    return 1;
  } finally {
    await bus.close();
  }
}
