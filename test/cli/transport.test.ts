import { describe, expect, it } from "vitest";
import { runOptions } from "../../src/cli/run.js";
import { toJsonLine, toTextLine } from "../../src/cli/tail.js";
import { chooseTransport, DEFAULT_NAMESPACE, describeStatus, maskUrl } from "../../src/cli/transport.js";
import type { Envelope } from "../../src/envelope.js";

describe("maskUrl", () => {
  it.each([
    ["nats://alice:s3cret@host:4222", "nats://alice:***@host:4222"],
    ["nats://t0ken@host:4222", "nats://***@host:4222"],
    ["redis://:pw@127.0.0.1:6379/2", "redis://:***@127.0.0.1:6379/2"],
    ["alice:s3cret@host:4222", "alice:***@host:4222"],
    ["nats://127.0.0.1:4222", "nats://127.0.0.1:4222"],
    ["127.0.0.1:4222", "127.0.0.1:4222"],
    ["failed: nats://a:b@x:1 and redis://c:d@y:2", "failed: nats://a:***@x:1 and redis://c:***@y:2"],
  ])("masks %s as %s", (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });
});

describe("chooseTransport", () => {
  it("is undefined without a broker, and takes the default namespace with one", () => {
    expect(chooseTransport({})).toBeUndefined();
    const choice = chooseTransport({ nats: "nats://u:p@127.0.0.1:4222" });
    expect(choice).toMatchObject({
      flag: "nats",
      namespace: DEFAULT_NAMESPACE,
      connectTimeout: 5000,
      label: "NATS",
    });
    expect(choice?.where).toBe("NATS nats://u:***@127.0.0.1:4222, namespace agent-bus");
    expect(choice?.create().name).toBe("nats");
    const redis = chooseTransport({
      redis: "redis://127.0.0.1:6379",
      namespace: "team.a",
      "connect-timeout": "250",
    });
    expect(redis).toMatchObject({ flag: "redis", namespace: "team.a", connectTimeout: 250 });
    expect(redis?.create().name).toBe("redis");
  });

  it("is part of run's options only when asked for", () => {
    expect(runOptions(["--port", "0"])).not.toHaveProperty("transport");
    expect(runOptions(["--nats", "127.0.0.1:4222"]).transport?.where).toBe(
      "NATS 127.0.0.1:4222, namespace agent-bus",
    );
  });

  it("describes status changes in one line, credentials masked", () => {
    const choice = chooseTransport({ nats: "nats://u:p@h:1", namespace: "ns" });
    if (choice === undefined) throw new Error("no choice");
    expect(describeStatus({ state: "connected", server: "h:1" }, choice)).toBe(
      "[bus] connected to NATS h:1, namespace ns",
    );
    expect(describeStatus({ state: "disconnected", error: new Error("gone") }, choice)).toBe(
      "[bus] disconnected (NATS nats://u:***@h:1): Error: gone",
    );
    expect(describeStatus({ state: "closed" }, choice)).toBe(
      "[bus] connection to NATS nats://u:***@h:1 closed",
    );
  });
});

describe("tail's lines", () => {
  const envelope: Envelope = {
    specversion: "1.0",
    id: "1",
    type: "task.done",
    source: "agent-bus/x",
    time: "2024-01-02T03:04:05.678Z",
    data: { text: "y".repeat(500) },
  };

  it("cuts the data to the terminal's width, and to 200 characters when piped", () => {
    const narrow = toTextLine(envelope, 80);
    expect(narrow.trimEnd()).toHaveLength(80);
    expect(narrow).toMatch(/^\d\d:\d\d:\d\d\.678 task\.done agent-bus\/x \{"text":"y+…\n$/u);
    const piped = toTextLine(envelope);
    expect(piped.trimEnd().split(" ").at(-1)).toHaveLength(200);
  });

  it("writes binary data as data_base64 in the JSON line", () => {
    const line = toJsonLine({ ...envelope, data: new Uint8Array([1, 2, 3]) });
    expect(JSON.parse(line)).toMatchObject({ type: "task.done", data_base64: "AQID" });
    expect(JSON.parse(line)).not.toHaveProperty("data");
  });
});
