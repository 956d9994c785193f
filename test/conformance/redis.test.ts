import { Redis } from "ioredis";
import { redisTransport } from "../../src/transports/redis.js";
import { skipWithout } from "../transports/_broker.js";
import { deleteNamespaces } from "../transports/_redis.js";
import { describeTransportConformance } from "./suite.js";

const URL = "redis://127.0.0.1:6379";
const skip = await skipWithout("redis-server", 6379);
const namespaces = new Set<string>();

describeTransportConformance(
  "redis",
  async () => {
    const raw = new Redis(URL);
    return {
      transport: (namespace) => {
        namespaces.add(namespace);
        return redisTransport({ url: URL, namespace });
      },
      maxPayload: 1024 * 1024,
      async injectMalformed(namespace, eventType) {
        const channel = `${namespace}.${eventType}`;
        const good = { specversion: "1.0", id: "x", type: eventType, source: "test" };
        await raw.publish(channel, "not json at all");
        await raw.publish(channel, JSON.stringify([good]));
        await raw.publish(channel, JSON.stringify({ ...good, id: "" }));
        await raw.publish(channel, JSON.stringify({ ...good, specversion: "0.3" }));
        await raw.publish(channel, JSON.stringify({ ...good, type: "other.type" }));
        await raw.publish(channel, JSON.stringify({ ...good, data_base64: 7 }));
        await new Promise((resolve) => setTimeout(resolve, 50));
        return 6;
      },
      async teardown() {
        await deleteNamespaces(raw, namespaces);
        await raw.quit();
      },
    };
  },
  { skip },
);
