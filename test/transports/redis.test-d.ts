import { describe, expectTypeOf, it } from "vitest";
import type { Transport } from "../../src/index.js";
import { type RedisTransportOptions, redisTransport } from "../../src/transports/redis.js";

describe("redisTransport options", () => {
  it("takes the transport's options beside ioredis's (auth, TLS, reconnect)", () => {
    expectTypeOf(redisTransport).returns.toEqualTypeOf<Transport>();
    redisTransport({
      url: "rediss://127.0.0.1:6380",
      namespace: "demo",
      username: "agent",
      password: "secret",
      tls: { ca: "-----BEGIN CERTIFICATE-----" },
      retryStrategy: (times) => Math.min(times * 100, 2000),
      maxPayload: 65_536,
      maxLength: 10_000,
      duplicateWindow: 0,
      maxDeliver: 3,
      ackWait: 5000,
      disconnected: "reject",
    });
    expectTypeOf<RedisTransportOptions["disconnected"]>().toEqualTypeOf<"buffer" | "reject" | undefined>();
  });

  it("refuses options of the wrong type", () => {
    // @ts-expect-error the policies are "buffer" and "reject"
    redisTransport({ disconnected: "drop" });
    // @ts-expect-error a number of deliveries
    redisTransport({ maxDeliver: "5" });
    // @ts-expect-error the bus sets lazyConnect itself
    redisTransport({ lazyConnect: false });
  });
});
