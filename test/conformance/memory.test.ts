import { createMemoryHub, memoryTransport } from "../../src/index.js";
import { describeTransportConformance } from "./suite.js";

describeTransportConformance("in-memory", () => {
  const hub = createMemoryHub();
  return {
    transport: (namespace) => memoryTransport({ hub, namespace, maxPayload: 64 * 1024 }),
    maxPayload: 64 * 1024,
    async injectMalformed(namespace, eventType) {
      const good = { "ce-specversion": "1.0", "ce-id": "x", "ce-type": eventType, "ce-source": "test" };
      hub.inject(namespace, eventType, "not a frame");
      hub.inject(namespace, eventType, { headers: { ...good, "ce-id": "" }, body: new Uint8Array() });
      hub.inject(namespace, eventType, { headers: good, body: new TextEncoder().encode("{not json") });
      hub.inject(namespace, eventType, { headers: { ...good, "ce-type": "other" }, body: new Uint8Array() });
      await hub.flush();
      return 4;
    },
  };
});
