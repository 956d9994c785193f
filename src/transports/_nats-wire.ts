/**
 * NATS specifics of the wire format: subjects, the lazy client import, header conversion and
 * the buffer that holds publishes while the connection is down.
 */
import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { TransportError } from "../errors.js";
import type { WireHeaders } from "./_codec.js";

/** Subject prefix of requests, apart from events so that `<namespace>.>` never sees them. */
export const REQUEST_PREFIX = "_rpc";
/** Queue group of responders: each request goes to one of them. */
export const RESPONDER_QUEUE = "agent-bus-responders";
/** Reply header naming the error a responder failed with; the body is its message. */
export const ERROR_HEADER = "agentbus-error";

export interface NatsModules {
  connect(options: NodeConnectionOptions): Promise<NatsConnection>;
  headers(): MsgHdrs;
}

/** Loads the optional client, with an error that says what to install. */
export async function loadClient(): Promise<NatsModules> {
  try {
    const module = await import("@nats-io/transport-node");
    return { connect: module.connect, headers: module.headers };
  } catch (error) {
    throw new TransportError(
      "[EventBus:nats] natsTransport needs the NATS client: npm install @nats-io/transport-node (and @nats-io/jetstream for durable subscriptions)",
      { cause: error },
    );
  }
}

export function toHeaders(make: () => MsgHdrs, record: WireHeaders): MsgHdrs {
  const headers = make();
  for (const name in record) headers.set(name, record[name] as string);
  return headers;
}

/** Header lookup on a received message; missing headers read as undefined. */
export function headerOf(headers: MsgHdrs | undefined): (name: string) => string | undefined {
  return (name) => {
    const value = headers?.get(name);
    return value === undefined || value === "" ? undefined : value;
  };
}

/** What happens to publishes while the connection to the server is down. */
export type DisconnectedPolicy = "buffer" | "reject";

/**
 * Holds publishes made while disconnected, up to a byte cap, and sends them in order on
 * reconnect. nats.js itself resets its outbound buffer on every reconnect attempt, so without
 * this, what is published while the server is away is silently lost.
 */
export class DisconnectBuffer {
  private held: { subject: string; headers: WireHeaders; body: Uint8Array }[] = [];
  private bytes = 0;
  down = false;

  constructor(
    private readonly policy: DisconnectedPolicy,
    private readonly capBytes: number,
  ) {}

  /** Throws a TransportError when a publish must be refused now, before anyone saw it. */
  admit(eventType: string, size: number): void {
    if (!this.down) return;
    if (this.policy === "reject") {
      throw new TransportError(
        `[EventBus:nats] publish of "${eventType}" refused: disconnected (disconnected: "reject")`,
      );
    }
    if (this.bytes + size > this.capBytes) {
      throw new TransportError(
        `[EventBus:nats] publish of "${eventType}" refused: disconnected and the buffer holds ${this.bytes} of ${this.capBytes} bytes (bufferBytes)`,
      );
    }
  }

  /** Keeps a frame while disconnected; false when it may go to the client at once. */
  hold(subject: string, headers: WireHeaders, body: Uint8Array): boolean {
    if (!this.down) return false;
    this.held.push({ subject, headers, body });
    this.bytes += body.length;
    return true;
  }

  /** Hands the held frames over in order and stops holding. */
  release(send: (subject: string, headers: WireHeaders, body: Uint8Array) => void): void {
    const held = this.held;
    this.held = [];
    this.bytes = 0;
    this.down = false;
    for (const frame of held) send(frame.subject, frame.headers, frame.body);
  }
}
