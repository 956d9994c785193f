/**
 * A Transport over a HubLink: the in-memory hub itself, or a proxy to a hub in another thread.
 * Frames use the shared wire format, so the buses never share a reference.
 */
import { withDeadline } from "../_responders.js";
import type { Envelope } from "../envelope.js";
import { TransportError } from "../errors.js";
import type {
  RemoteDelivery,
  RemoteRequestOptions,
  RemoteResponder,
  RemoteSubscribeOptions,
  RemoteSubscription,
  Transport,
  TransportCapabilities,
  TransportContext,
} from "../transport.js";
import {
  assertReplySize,
  asText,
  decodeBody,
  decodeFrame,
  encodeBody,
  encodeFrame,
  type FrameAttributes,
  type FrameBody,
  frameAttributes,
  fromWireError,
  isEcho,
  toWireError,
  type WireFrame,
  type WireHeaders,
} from "./_codec.js";
import type { HubLink, HubReply } from "./_hub.js";

/** Largest frame accepted by default, as a NATS server's default max_payload. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Frames over a link carry the JSON text itself: see `WireFrame`. */
type LinkFrame = WireFrame<FrameBody>;

interface Encoded {
  readonly eventType: string;
  readonly frame: LinkFrame;
}

const NO_CONTEXT: TransportContext = {
  origin: "",
  log: (message) => console.warn(message),
  status: () => undefined,
};

export class LinkTransport implements Transport {
  readonly capabilities: TransportCapabilities = { groups: true, durable: false, request: true };
  private context = NO_CONTEXT;

  constructor(
    readonly name: string,
    private readonly link: HubLink,
    private readonly namespace: string,
    private readonly maxPayload: number,
    private readonly opening: (context: TransportContext) => Promise<void> = () => Promise.resolve(),
    private readonly closing: () => void = () => undefined,
  ) {}

  async connect(context: TransportContext): Promise<void> {
    this.context = context;
    await this.opening(context);
    context.status({ state: "connected" });
  }

  encode(envelope: Envelope): Encoded {
    return {
      eventType: envelope.type,
      frame: encodeFrame(envelope, this.context, this.maxPayload, asText),
    };
  }

  send(encoded: unknown): void {
    const { eventType, frame } = encoded as Encoded;
    this.link.publish(this.namespace, eventType, frame);
  }

  subscribe(pattern: string, options: RemoteSubscribeOptions, delivery: RemoteDelivery): RemoteSubscription {
    if (options.durable !== undefined) {
      throw new TransportError(`[EventBus:${this.name}] durable subscriptions are not supported`);
    }
    const plain = options.group === undefined;
    const unsubscribe = this.link.subscribe(this.namespace, pattern, options.group, (eventType, frame) => {
      const attributes = frameAttributes(frame);
      // Echoes are dropped only on plain subscriptions: a group takes every member, local ones included.
      if (plain && isEcho(attributes, this.context)) return;
      const envelope = this.decode(eventType, frame, attributes);
      if (envelope === undefined) return;
      const result = delivery(envelope);
      if (result !== undefined) result.catch(() => undefined);
    });
    // In place once the hub answered a flush sent after it: a worker's ready() must mean that an
    // event published next reaches it (the first 500 of a benchmark's events were lost now and then).
    return { unsubscribe, ready: this.link.flush() };
  }

  async request(envelope: Envelope, options: RemoteRequestOptions): Promise<unknown> {
    const { frame } = this.encode(envelope);
    const reply = this.link.request(this.namespace, envelope.type, frame);
    return readReply(
      await withDeadline(reply, envelope.type, options.timeout, options.signal),
      envelope.type,
    );
  }

  respond(eventType: string, responder: RemoteResponder): RemoteSubscription {
    const unsubscribe = this.link.respond(this.namespace, eventType, async (frame): Promise<HubReply> => {
      const envelope = this.decode(eventType, frame, frameAttributes(frame));
      if (envelope === undefined) {
        return { ok: false, error: { name: "TransportError", message: "malformed request dropped" } };
      }
      try {
        const { body, contentType } = encodeBody(eventType, await responder(envelope), asText);
        assertReplySize(eventType, body, this.maxPayload);
        const headers: WireHeaders = contentType === undefined ? {} : { "content-type": contentType };
        return { ok: true, frame: { headers, body } };
      } catch (error) {
        return { ok: false, error: toWireError(error) };
      }
    });
    return { unsubscribe, ready: this.link.flush() };
  }

  async close(): Promise<void> {
    await this.link.flush();
    this.closing();
    this.context.status({ state: "closed" });
  }

  private decode(eventType: string, frame: unknown, attributes: FrameAttributes) {
    try {
      return decodeFrame(eventType, attributes, (frame as { body?: unknown } | null)?.body);
    } catch (error) {
      this.context.log(`dropped a malformed message on "${eventType}": ${(error as Error).message}`);
      return undefined;
    }
  }
}

function readReply(reply: HubReply, eventType: string): unknown {
  if (!reply.ok) throw fromWireError(reply.error, eventType);
  return decodeBody(reply.frame.body, reply.frame.headers["content-type"]);
}
