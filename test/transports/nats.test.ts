import { connect, headers } from "@nats-io/transport-node";
import { natsTransport } from "../../src/transports/nats.js";
import { describeTransportConformance } from "../conformance/suite.js";
import { skipWithout } from "./_broker.js";
import { publishRaw } from "./_nats-raw.js";

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
        // Blocks the client would not write: a lone LF or CR inside a value, which its decoder refuses.
        const lines = Object.entries(good).map(([name, value]) => `${name}: ${value}`);
        await publishRaw(subject, [
          `NATS/1.0\r\n${lines.join("\r\n").replace("ce-id: x", "ce-id: x\ny")}\r\n\r\n`,
          `NATS/1.0\r\n${lines.join("\r\n").replace("ce-source: test", "ce-source: te\rst")}\r\n\r\n`,
        ]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return 6;
      },
      teardown: () => raw.close(),
    };
  },
  { skip },
);
