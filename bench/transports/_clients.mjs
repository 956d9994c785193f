/**
 * The clients a transport case compares, behind one shape: agent-bus over the transport, and the
 * raw broker client doing the same job (JSON data in, the same JSON data out).
 *
 *   open({ broker, client, url, namespace }) → { publish(data), subscribe(onData), close() }
 *
 * nats / bus          agent-bus natsTransport (CloudEvents binary mode: ce-* headers, JSON body)
 * nats / raw          nc.publish(subject, JSON bytes), no headers: the baseline
 * nats / raw-headers  the raw client sending and reading the same ce-* headers agent-bus does
 * redis / bus         agent-bus redisTransport (structured CloudEvents JSON on PUBLISH)
 * redis / raw         ioredis PUBLISH / SUBSCRIBE of the same CloudEvents JSON document
 */

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

async function natsRaw({ url, namespace }, withHeaders) {
  const { connect, headers } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: url, name: "bench raw" });
  const subject = `${namespace}.${TYPE}`;
  const nextId = ids();
  const origin = randomUUID();
  const publishPlain = (data) => nc.publish(subject, encoder.encode(JSON.stringify(data)));
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
  return {
    publish: withHeaders ? publishWithHeaders : publishPlain,
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
  "nats/raw": (options) => natsRaw(options, false),
  "nats/raw-headers": (options) => natsRaw(options, true),
  "redis/bus": busClient,
  "redis/raw": redisRaw,
};
