/**
 * Request/reply over pub/sub. A request is PUBLISHed on `_rpc.<namespace>.<type>`; PUBLISH
 * returns how many subscribers got it, so none means NoResponderError at once. Every responder
 * hears it, and the one that wins `SET <namespace>:rpc:<id> NX` answers on the requester's
 * inbox channel, so a request runs one responder, as with a NATS queue group.
 */
import type { Redis } from "ioredis";
import { withDeadline } from "../_responders.js";
import type { Envelope } from "../envelope.js";
import { NoResponderError, TransportError } from "../errors.js";
import type { RemoteRequestOptions, RemoteResponder, RemoteSubscription } from "../transport.js";
import { assertReplySize, encodeJson, fromWireError, toWireError, type WireError } from "./_codec.js";
import type { LiveSubscriptions } from "./_redis-live.js";
import {
  decodeStructured,
  encodeStructured,
  ORIGIN_ATTRIBUTE,
  REPLY_TO_ATTRIBUTE,
  type RedisNames,
} from "./_redis-wire.js";

/** How long the winning responder's claim on a request id is kept. */
const CLAIM_MS = 60_000;

interface Waiting {
  readonly eventType: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class Rpc {
  private readonly waiting = new Map<string, Waiting>();
  private readonly inbox: string;

  constructor(
    private readonly names: RedisNames,
    private readonly command: Redis,
    private readonly live: LiveSubscriptions,
    private readonly origin: string,
    private readonly maxBytes: number,
    private readonly log: (message: string) => void,
  ) {
    this.inbox = names.inbox(origin);
  }

  /** Listens on this bus's inbox; resolves once Redis confirmed it. */
  start(): Promise<void> {
    return this.live.add(false, this.inbox, (_channel, message) => this.replied(message)).ready;
  }

  async request(envelope: Envelope, options: RemoteRequestOptions): Promise<unknown> {
    const attributes = { [ORIGIN_ATTRIBUTE]: this.origin, [REPLY_TO_ATTRIBUTE]: this.inbox };
    const text = encodeStructured(envelope, attributes, this.maxBytes);
    const reply = new Promise<unknown>((resolve, reject) =>
      this.waiting.set(envelope.id, { eventType: envelope.type, resolve, reject }),
    );
    const sent = this.command.publish(this.names.request(envelope.type), text).then(
      (receivers) => {
        if (receivers === 0) throw new NoResponderError(envelope.type);
        return reply;
      },
      (error: unknown) => {
        throw new TransportError(`[EventBus:redis] request "${envelope.type}" failed: ${String(error)}`, {
          cause: error,
        });
      },
    );
    try {
      return await withDeadline(sent, envelope.type, options.timeout, options.signal);
    } finally {
      this.waiting.delete(envelope.id);
    }
  }

  respond(eventType: string, responder: RemoteResponder): RemoteSubscription {
    const channel = this.names.request(eventType);
    const listening = this.live.add(false, channel, (_channel, message) => {
      this.answer(message, eventType, responder).catch((error: unknown) =>
        this.log(`answering "${eventType}" failed: ${String(error)}`),
      );
    });
    return { ready: listening.ready, unsubscribe: () => listening.remove() };
  }

  /** Ends every pending request: the bus is closing. */
  close(): void {
    for (const waiting of this.waiting.values())
      waiting.reject(new TransportError("[EventBus:redis] closed before the reply came"));
    this.waiting.clear();
  }

  private async answer(message: string, eventType: string, responder: RemoteResponder): Promise<void> {
    let envelope: Envelope;
    let replyTo: string | undefined;
    try {
      ({ envelope, replyTo } = decodeStructured(message, eventType));
      if (replyTo === undefined) throw new Error(`${REPLY_TO_ATTRIBUTE} is missing`);
    } catch (error) {
      this.log(
        `dropped a malformed request on "${this.names.request(eventType)}": ${(error as Error).message}`,
      );
      return;
    }
    const won = await this.command.set(this.names.claim(envelope.id), this.origin, "PX", CLAIM_MS, "NX");
    if (won === null) return;
    let reply: string;
    try {
      reply = encodeReply(envelope.id, await responder(envelope), eventType);
      assertReplySize(eventType, reply, this.maxBytes, `maxPayload (${this.maxBytes} bytes)`);
    } catch (error) {
      reply = JSON.stringify({ id: envelope.id, error: toWireError(error) });
    }
    await this.command.publish(replyTo, reply);
  }

  private replied(message: string): void {
    let reply: { id?: unknown; error?: WireError; data?: unknown; data_base64?: unknown };
    try {
      reply = JSON.parse(message) as typeof reply;
    } catch {
      this.log(`dropped a malformed reply on "${this.inbox}"`);
      return;
    }
    const waiting = typeof reply.id === "string" ? this.waiting.get(reply.id) : undefined;
    if (waiting === undefined) return;
    if (reply.error !== undefined) waiting.reject(fromWireError(reply.error, waiting.eventType));
    else if (typeof reply.data_base64 === "string")
      waiting.resolve(new Uint8Array(Buffer.from(reply.data_base64, "base64")));
    else waiting.resolve(reply.data);
  }
}

/** A reply: `{ id, data }`, `{ id, data_base64 }` for bytes, or `{ id, error: { name, message } }`. */
function encodeReply(id: string, data: unknown, eventType: string): string {
  const head = JSON.stringify({ id });
  if (data === undefined) return head;
  if (data instanceof Uint8Array)
    return `${head.slice(0, -1)},"data_base64":"${Buffer.from(data).toString("base64")}"}`;
  return `${head.slice(0, -1)},"data":${encodeJson(eventType, data)}}`;
}
