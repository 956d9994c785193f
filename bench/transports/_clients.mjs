/**
 * The clients a transport case compares, behind one shape: agent-bus over the transport, and the
 * raw broker client doing the same job (JSON data in, the same JSON data out).
 *
 *   open({ broker, client, url, namespace }) → { publish(data), subscribe(onData), close() }
 *
 * nats / bus          agent-bus natsTransport (CloudEvents binary mode: ce-* headers, JSON body)
 * nats / raw          nc.publish(subject, JSON bytes), no headers: the baseline
 * nats / raw-headers  the raw client sending and reading the same ce-* headers agent-bus does
 * nats / raw-fixed    the raw client sending one fixed header block of agent-bus's size, encoded
 *                     once, and its body encoded as agent-bus does (Buffer.from, faster than
 *                     raw's TextEncoder): what the header bytes cost with no work per event on
 *                     them, the ceiling of a client that sends them through nc.publish() (its
 *                     subscriber reads the body, as raw's does)
 * redis / bus         agent-bus redisTransport (structured CloudEvents JSON on PUBLISH)
 * redis / raw         ioredis PUBLISH / SUBSCRIBE of the same CloudEvents JSON document
 */

import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";

const TYPE = "bench.event";
const encoder = new TextEncoder();

/** Ids like agent-bus's: a random prefix and a counter, so the raw side pays what the bus pays. */
function ids() {
  const prefix = randomUUID();
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}

export async function open(options) {
  const make = CLIENTS[`${options.broker}/${options.client}`];
  if (make === undefined) throw new Error(`unknown client ${options.broker}/${options.client}`);
  return make(options);
}

async function busClient({ broker, url, namespace }) {
  const { EventBus } = await import("agent-bus");
  const transport =
    broker === "nats"
      ? (await import("agent-bus/nats")).natsTransport({ servers: url, namespace })
      : (await import("agent-bus/redis")).redisTransport({ url, namespace });
  const bus = new EventBus({ transport, source: "bench" });
  await bus.ready();
  return {
    publish: (data) => bus.publish(TYPE, data),
    subscribe: async (onData) => {
      bus.subscribe(TYPE, (data) => onData(data));
      await bus.ready();
    },
    close: () => bus.close(),
  };
}

/**
 * The header block agent-bus writes for an event of this benchmark, in its order and with values
 * of the same lengths (a real id, the time now), as the bytes the client would send. No origin
 * line: agent-bus's ids carry its origin as their prefix.
 */
function fixedHeaderBlock(id) {
  const lines = [
    "NATS/1.0",
    "ce-specversion: 1.0",
    `ce-type: ${TYPE}`,
    "ce-source: bench",
    "content-type: application/json",
    `ce-id: ${id}`,
    `ce-time: ${new Date().toISOString()}`,
  ];
  return encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
}

/** @param mode "none" (the baseline), "same" (raw-headers) or "fixed" (raw-fixed) */
async function natsRaw({ url, namespace }, mode) {
  const withHeaders = mode === "same";
  const { connect, headers } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: url, name: "bench raw" });
  const subject = `${namespace}.${TYPE}`;
  const nextId = ids();
  const origin = randomUUID();
  const publishPlain = (data) => nc.publish(subject, encoder.encode(JSON.stringify(data)));
  const block = fixedHeaderBlock(nextId());
  // The client calls nothing but encode() on the headers of a publish (see _nats-wire.ts).
  const fixed = { encode: () => block };
  const publishFixed = (data) => nc.publish(subject, Buffer.from(JSON.stringify(data)), { headers: fixed });
  const publishWithHeaders = (data) => {
    const h = headers();
    h.set("ce-specversion", "1.0");
    h.set("ce-id", nextId());
    h.set("ce-type", TYPE);
    h.set("ce-source", "bench");
    h.set("ce-time", new Date().toISOString());
    h.set("ce-agentbusorigin", origin);
    h.set("content-type", "application/json");
    nc.publish(subject, encoder.encode(JSON.stringify(data)), { headers: h });
  };
  const publishers = { none: publishPlain, same: publishWithHeaders, fixed: publishFixed };
  return {
    publish: publishers[mode],
    subscribe: async (onData) => {
      nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error !== null) throw error;
          if (withHeaders) {
            // Read what a CloudEvents consumer reads: the attributes agent-bus checks.
            const h = msg.headers;
            if (h?.get("ce-specversion") !== "1.0" || !h.get("ce-id") || h.get("ce-type") !== TYPE) return;
            h.get("ce-source");
            h.get("ce-time");
            h.get("content-type");
          }
          onData(msg.json());
        },
      });
      await nc.flush();
    },
    close: () => nc.drain(),
  };
}

async function redisRaw({ url, namespace }) {
  const { Redis } = await import("ioredis");
  const command = new Redis(url, { maxRetriesPerRequest: null });
  const channel = `${namespace}.${TYPE}`;
  const nextId = ids();
  const origin = randomUUID();
  let subscriber;
  return {
    publish: (data) => {
      const document = {
        specversion: "1.0",
        id: nextId(),
        type: TYPE,
        source: "bench",
        time: new Date().toISOString(),
        datacontenttype: "application/json",
        agentbusorigin: origin,
        data,
      };
      command.publish(channel, JSON.stringify(document)).catch(() => undefined);
    },
    subscribe: async (onData) => {
      subscriber = command.duplicate();
      subscriber.on("message", (_channel, message) => {
        const event = JSON.parse(message);
        if (event.specversion !== "1.0" || event.type !== TYPE) return;
        onData(event.data);
      });
      await subscriber.subscribe(channel);
    },
    close: async () => {
      await Promise.all([command.quit(), subscriber?.quit()]);
    },
  };
}

const CLIENTS = {
  "nats/bus": busClient,
  "nats/raw": (options) => natsRaw(options, "none"),
  "nats/raw-headers": (options) => natsRaw(options, "same"),
  "nats/raw-fixed": (options) => natsRaw(options, "fixed"),
  "redis/bus": busClient,
  "redis/raw": redisRaw,
};
