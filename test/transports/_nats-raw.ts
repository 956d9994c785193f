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
