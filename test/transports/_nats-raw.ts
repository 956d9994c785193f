/** Bytes a NATS client would not send, published on a plain socket to the shared server. */
import { createConnection } from "node:net";

/**
 * Publishes each header block byte for byte with the body `{}` (a block of undefined: no headers
 * at all), then waits for the server's PONG, so that all of them were routed.
 */
export async function publishRaw(subject: string, blocks: (string | undefined)[]): Promise<void> {
  const socket = createConnection({ port: 4222, host: "127.0.0.1" });
  const frames = blocks.map((block) => {
    if (block === undefined) return `PUB ${subject} 2\r\n{}\r\n`;
    const size = Buffer.byteLength(block);
    return `HPUB ${subject} ${size} ${size + 2}\r\n${block}{}\r\n`;
  });
  const pong = new Promise<void>((resolve) => {
    let seen = "";
    socket.on("data", (chunk) => {
      seen += chunk.toString();
      if (seen.includes("PONG")) resolve();
    });
  });
  socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n${frames.join("")}PING\r\n`);
  await pong;
  socket.destroy();
}

/** One message as the server delivered it: its subject, and its header block and body as bytes. */
export interface DeliveredBytes {
  readonly subject: string;
  readonly block: Buffer;
  readonly body: Buffer;
}

/**
 * A subscriber on a plain socket to the shared server, keeping each message's bytes exactly as
 * delivered (the client's own decoder would hide what a publisher wrote). `received(n)` resolves
 * once n messages have come.
 */
export async function rawSubscriber(subject: string): Promise<{
  received(count: number): Promise<DeliveredBytes[]>;
  close(): void;
}> {
  const socket = createConnection({ port: 4222, host: "127.0.0.1" });
  const messages: DeliveredBytes[] = [];
  const waiting: { count: number; resolve: (all: DeliveredBytes[]) => void }[] = [];
  let pending = Buffer.alloc(0);
  let subscribed: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  const settle = () => {
    for (const wait of waiting.splice(0)) {
      if (messages.length >= wait.count) wait.resolve(messages.slice(0, wait.count));
      else waiting.push(wait);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const end = pending.indexOf("\r\n");
      if (end < 0) break;
      const line = pending.subarray(0, end).toString("utf8");
      const parts = line.split(" ");
      const verb = parts[0];
      if (verb === "HMSG" || verb === "MSG") {
        const total = Number(parts.at(-1));
        const blockBytes = verb === "HMSG" ? Number(parts.at(-2)) : 0;
        if (pending.length < end + 2 + total + 2) break;
        const content = pending.subarray(end + 2, end + 2 + total);
        messages.push({
          subject: parts[1] as string,
          block: Buffer.from(content.subarray(0, blockBytes)),
          body: Buffer.from(content.subarray(blockBytes)),
        });
        pending = pending.subarray(end + 2 + total + 2);
        continue;
      }
      if (verb === "PING") socket.write("PONG\r\n");
      if (verb === "PONG") subscribed();
      pending = pending.subarray(end + 2);
    }
    settle();
  });
  socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nSUB ${subject} 1\r\nPING\r\n`);
  await ready;
  return {
    received(count) {
      return new Promise((resolve) => {
        waiting.push({ count, resolve });
        settle();
      });
    },
    close: () => socket.destroy(),
  };
}
