import { connect, headers } from "@nats-io/transport-node";
import { natsTransport } from "../../src/transports/nats.js";
import { describeTransportConformance } from "../conformance/suite.js";
import { skipWithout } from "./_broker.js";

const SERVER = "127.0.0.1:4222";
const skip = await skipWithout("nats-server", 4222);

describeTransportConformance(
  "nats",
  async () => {
    const raw = await connect({ servers: SERVER });
    return {
      transport: (namespace) => natsTransport({ servers: SERVER, namespace }),
      maxPayload: raw.info?.max_payload ?? 1024 * 1024,
      async injectMalformed(namespace, eventType) {
        const subject = `${namespace}.${eventType}`;
        const good = { "ce-specversion": "1.0", "ce-id": "x", "ce-type": eventType, "ce-source": "test" };
        const make = (record: Record<string, string>) => {
          const h = headers();
          for (const [k, v] of Object.entries(record)) h.set(k, v);
          return h;
        };
        raw.publish(subject, "no headers at all");
        raw.publish(subject, "{}", { headers: make({ ...good, "ce-id": "" }) });
        raw.publish(subject, "{not json", { headers: make({ ...good, "content-type": "application/json" }) });
        raw.publish(subject, "{}", { headers: make({ ...good, "ce-type": "other.type" }) });
        await raw.flush();
        await new Promise((resolve) => setTimeout(resolve, 50));
        return 4;
      },
      teardown: () => raw.close(),
    };
  },
  { skip },
);
