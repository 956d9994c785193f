/**
 * The subscribing side of NATS, counted without a live broker: under valgrind a subscriber falls
 * behind the server and the client's backlog swamps the count. So the messages a real
 * nats-server delivers are recorded once, off valgrind, and a small replay server hands them to
 * the counted subscriber at whatever pace it reads (TCP holds the rest; nothing is lost).
 *
 * record(url, subject, publish) → the messages' bytes, subscription id left out
 * replay(messages) → { port, close() }: a server speaking what a nats.js subscriber needs
 */

import { connect, createServer } from "node:net";

const CRLF = "\r\n";

/**
 * Splits NATS server output into its protocol lines and messages; calls `onMessage` with each
 * message's subject, header length (or -1 for MSG) and bytes (header block and payload), and
 * `onLine` with every other line.
 */
function protocolReader(onMessage, onLine) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    for (;;) {
      const end = pending.indexOf(CRLF, at);
      if (end < 0) break;
      const line = pending.toString("latin1", at, end);
      const parts = line.split(" ");
      if (parts[0] === "MSG" || parts[0] === "HMSG") {
        // MSG subject sid [reply] size / HMSG subject sid [reply] hsize size
        const total = Number(parts.at(-1));
        const headerSize = parts[0] === "HMSG" ? Number(parts.at(-2)) : -1;
        if (end + 2 + total + 2 > pending.length) break;
        onMessage(parts[1], headerSize, pending.subarray(end + 2, end + 2 + total));
        at = end + 2 + total + 2;
      } else {
        onLine(line);
        at = end + 2;
      }
    }
    pending = pending.subarray(at);
  };
}

/**
 * Subscribes to `subject` on a real server with a bare socket, runs `publish()` (which must make
 * `expected` messages arrive), and resolves with them as `{ subject, headerSize, bytes }`.
 */
export function record(url, subject, expected, publish) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const messages = [];
    let started = false;
    const read = protocolReader(
      (name, headerSize, bytes) => {
        messages.push({ subject: name, headerSize, bytes: Buffer.from(bytes) });
        if (messages.length === expected) {
          socket.end();
          resolve(messages);
        }
      },
      (line) => {
        if (line === "PING") socket.write(`PONG${CRLF}`);
        else if (line.startsWith("-ERR")) reject(new Error(`recording: ${line}`));
        else if (line === "PONG" && !started) {
          // The server has the subscription: now the publisher may go.
          started = true;
          publish().catch(reject);
        }
      },
    );
    socket.on("data", read);
    socket.on("error", reject);
    socket.write(
      `CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}${CRLF}SUB ${subject} 1${CRLF}PING${CRLF}`,
    );
  });
}

/**
 * A server that greets like nats-server, answers PING, and on the first SUB to the recorded
 * subject, once the client's next PING shows the subscription is in place, writes every recorded
 * message for that subscription. Other subscriptions (a bus may have some) get nothing.
 */
export function replay(messages) {
  const server = createServer((socket) => {
    let sid;
    let sent = false;
    socket.on("error", () => undefined);
    const read = protocolReader(
      () => undefined,
      (line) => {
        const [verb, subject, id] = line.split(" ");
        if (verb === "SUB" && sid === undefined && subject === messages[0]?.subject) sid = id;
        if (verb !== "PING") return;
        socket.write(`PONG${CRLF}`);
        if (sid === undefined || sent) return;
        sent = true;
        for (const { subject: name, headerSize, bytes } of messages) {
          const head =
            headerSize < 0
              ? `MSG ${name} ${sid} ${bytes.length}${CRLF}`
              : `HMSG ${name} ${sid} ${headerSize} ${bytes.length}${CRLF}`;
          socket.write(Buffer.concat([Buffer.from(head, "latin1"), bytes, Buffer.from(CRLF)]));
        }
      },
    );
    socket.on("data", read);
    const info = {
      server_id: "REPLAY",
      server_name: "replay",
      version: "2.10.0",
      proto: 1,
      headers: true,
      max_payload: 1048576,
      host: "127.0.0.1",
      port: 0,
    };
    socket.write(`INFO ${JSON.stringify(info)}${CRLF}`);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({ port: server.address().port, close: () => new Promise((done) => server.close(done)) }),
    );
  });
}
