import { randomUUID } from "node:crypto";
import { connect, type NatsConnection, type PublishOptions } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EventBus } from "../../src/bus.js";
import { DirectPublisher, wireSubject } from "../../src/transports/_nats-direct.js";
import { natsTransport } from "../../src/transports/nats.js";
import { skipWithout } from "./_broker.js";
import { rawSubscriber } from "./_nats-raw.js";

const SERVER = "127.0.0.1:4222";
const skip = await skipWithout("nats-server", 4222);

/** Headers the client takes already written, as the transport's own publish hands them. */
function written(block: string): PublishOptions {
  return { headers: { encode: () => Buffer.from(block) } as unknown as PublishOptions["headers"] };
}

function block(lines: Record<string, string>): string {
  const text = Object.entries(lines).map(([name, value]) => `\r\n${name}: ${value}`);
  return `NATS/1.0${text.join("")}\r\n\r\n`;
}

const ASCII_BLOCK = block({ "ce-specversion": "1.0", "ce-id": "a-1", "ce-type": "t.x" });

describe.skipIf(skip)("direct publishes into the NATS client", () => {
  let nc: NatsConnection;
  let direct: DirectPublisher;

  beforeAll(async () => {
    nc = await connect({ servers: SERVER });
    const made = DirectPublisher.of(nc);
    if (made === undefined) throw new Error("the installed client is not of the shape DirectPublisher needs");
    direct = made;
  });
  afterAll(() => nc.close());

  it("puts on the wire exactly what the client's publish puts there, and counts it the same", async () => {
    const cases = [
      { name: "ascii", subject: `direct.${randomUUID()}`, block: ASCII_BLOCK, body: '{"a":1}' },
      {
        name: "multi-byte subject and values",
        subject: `direct.${randomUUID()}.événement.日本`,
        block: block({ "ce-source": "agent-é", "ce-type": "t.日本", "ce-id": "😀" }),
        body: '"ünïcode 😀"',
      },
      { name: "empty body", subject: `direct.${randomUUID()}`, block: ASCII_BLOCK, body: "" },
      {
        name: "a block larger than a slab",
        subject: `direct.${randomUUID()}`,
        block: block({ "ce-id": "big", "ce-traceparent": "é".repeat(70_000) }),
        body: "{}",
      },
    ];
    for (const { name, subject, block: text, body } of cases) {
      const reader = await rawSubscriber(subject);
      try {
        const bytes = Buffer.from(body);
        // The body as text (written into the slab) and as bytes (queued as they are).
        for (const [form, given] of [
          ["text", body],
          ["bytes", bytes],
        ] as const) {
          const what = `${name}, body as ${form}`;
          const before = nc.stats();
          expect(direct.send(wireSubject(subject), text, given), what).toBe(true);
          const afterDirect = nc.stats();
          nc.publish(subject, bytes, written(text));
          const afterClient = nc.stats();
          const [mine, theirs] = (await reader.received(form === "text" ? 2 : 4)).slice(-2);
          expect(mine, what).toEqual(theirs);
          expect(mine?.subject, what).toBe(subject);
          expect(mine?.block.toString(), what).toBe(text);
          expect(mine?.body.toString(), what).toBe(body);
          expect(afterDirect.outMsgs - before.outMsgs, what).toBe(1);
          expect(afterDirect.outBytes - before.outBytes, what).toBe(
            afterClient.outBytes - afterDirect.outBytes,
          );
        }
      } finally {
        reader.close();
      }
    }
  });

  it("keeps every message whole and in order across many slabs, mixed with the client's publishes", async () => {
    const subject = `direct.${randomUUID()}`;
    const target = wireSubject(subject);
    const count = 3000;
    const received: string[] = [];
    const sub = nc.subscribe(subject, {
      callback: (_error, msg) => {
        received.push(`${msg.headers?.get("ce-id")} ${msg.string()}`);
      },
    });
    const pad = "x".repeat(200);
    for (let i = 0; i < count; i++) {
      const text = block({ "ce-specversion": "1.0", "ce-id": `e-${i}`, "ce-type": "t.x" });
      const body = `{"i":${i},"pad":"${pad}"}`;
      // Every seventh goes through the client's own publish, every other one as bytes: all three
      // ways share one queue.
      if (i % 7 === 0) nc.publish(subject, body, written(text));
      else expect(direct.send(target, text, i % 2 === 0 ? Buffer.from(body) : body)).toBe(true);
    }
    await nc.flush();
    await vi.waitFor(() => expect(received).toHaveLength(count), { timeout: 5000 });
    sub.unsubscribe();
    expect(received).toEqual(Array.from({ length: count }, (_, i) => `e-${i} {"i":${i},"pad":"${pad}"}`));
  });

  it("refuses, queueing nothing, what the client's publish would not queue", async () => {
    const body = Buffer.from("{}");
    const refused = (subject: string, text = ASCII_BLOCK, bytes: string | Uint8Array = body) => {
      const before = nc.stats();
      const sent = direct.send(wireSubject(subject), text, bytes);
      const after = nc.stats();
      expect(after).toEqual(before);
      return sent;
    };
    expect(refused("has space")).toBe(false);
    expect(refused("")).toBe(false);
    expect(refused("tab\there")).toBe(false);
    const max = nc.info?.max_payload ?? 0;
    expect(max).toBeGreaterThan(0);
    const over = Buffer.alloc(max - ASCII_BLOCK.length + 1, 0x61);
    expect(refused(`direct.${randomUUID()}`, ASCII_BLOCK, over)).toBe(false);
    expect(refused(`direct.${randomUUID()}`, ASCII_BLOCK, over.toString())).toBe(false);
    // The client's publish refuses the same message.
    expect(() => nc.publish(`direct.${randomUUID()}`, over, written(ASCII_BLOCK))).toThrow(/max_payload/u);
    // One byte less goes.
    expect(direct.send(wireSubject(`direct.${randomUUID()}`), ASCII_BLOCK, over.subarray(1))).toBe(true);

    // A server without headers: the client's publish throws, so the direct one must not send.
    const info = (nc as unknown as { protocol: { info: { headers: boolean } } }).protocol.info;
    info.headers = false;
    try {
      expect(refused(`direct.${randomUUID()}`)).toBe(false);
    } finally {
      info.headers = true;
    }
  });

  it("refuses once the connection drains or closes, as the client's publish does", async () => {
    const other = await connect({ servers: SERVER });
    const mine = DirectPublisher.of(other);
    const subject = wireSubject(`direct.${randomUUID()}`);
    expect(mine?.send(subject, ASCII_BLOCK, Buffer.from("{}"))).toBe(true);
    const draining = other.drain();
    // The client takes publishes until its subscriptions are drained, a few turns later: each
    // turn, both ways must agree on whether a publish goes.
    let refusing = false;
    for (let turn = 0; turn < 20 && !refusing; turn++) {
      const goes = mine?.send(subject, ASCII_BLOCK, Buffer.from("{}"));
      try {
        other.publish(subject.text, "{}");
      } catch (error) {
        expect(String(error)).toMatch(/drain/iu);
        refusing = true;
      }
      expect(goes).toBe(!refusing);
      await Promise.resolve();
    }
    expect(refusing).toBe(true);
    await draining;
    expect(other.isClosed()).toBe(true);
    expect(mine?.send(subject, ASCII_BLOCK, Buffer.from("{}"))).toBe(false);
  });

  it("is not made for a client of another shape", () => {
    expect(DirectPublisher.of({} as NatsConnection)).toBeUndefined();
    const { outMsgs: _left, ...partial } = (nc as unknown as { protocol: Record<string, unknown> }).protocol;
    expect(DirectPublisher.of({ protocol: { ...partial } } as unknown as NatsConnection)).toBeUndefined();
    expect(
      DirectPublisher.of({ protocol: { sendCommand: "no" } } as unknown as NatsConnection),
    ).toBeUndefined();
  });

  it("is the way the transport publishes events with the installed client", async () => {
    const publish = vi.spyOn(Object.getPrototypeOf(nc) as NatsConnection, "publish");
    const namespace = `direct-${randomUUID().slice(0, 8)}`;
    const sender = new EventBus({ transport: natsTransport({ servers: SERVER, namespace }) });
    const receiver = new EventBus({ transport: natsTransport({ servers: SERVER, namespace }) });
    try {
      await Promise.all([sender.ready(), receiver.ready()]);
      const seen: unknown[] = [];
      receiver.subscribe("task.done", (data) => {
        seen.push(data);
      });
      await receiver.ready();
      publish.mockClear();
      for (let i = 0; i < 5; i++) sender.publish("task.done", { i, who: "ü" });
      await vi.waitFor(() => expect(seen).toHaveLength(5), { timeout: 3000 });
      expect(seen).toEqual(Array.from({ length: 5 }, (_, i) => ({ i, who: "ü" })));
      expect(publish).not.toHaveBeenCalled();
    } finally {
      publish.mockRestore();
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
});
