/**
 * Private brokers for a run: a nats-server and a redis-server on free ports, so that the shared
 * servers (4222, 6379) and the tests others run against them neither disturb nor are disturbed.
 */

import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, name) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const open = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not listen on ${port} within 10 s`);
}

async function start(name, command, args, port) {
  const child = spawn(command, args, { stdio: "ignore" });
  child.once("error", () => undefined);
  await waitForPort(port, child, name);
  return child;
}

/** Starts both servers; returns their URLs and a stop(). */
export async function startServers() {
  const natsPort = await freePort();
  const redisPort = await freePort();
  const children = [];
  try {
    children.push(
      await start("nats-server", "nats-server", ["-a", "127.0.0.1", "-p", String(natsPort)], natsPort),
    );
    children.push(
      await start(
        "redis-server",
        "redis-server",
        ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        redisPort,
      ),
    );
  } catch (error) {
    for (const child of children) child.kill("SIGTERM");
    throw error;
  }
  return {
    nats: `nats://127.0.0.1:${natsPort}`,
    redis: `redis://127.0.0.1:${redisPort}`,
    stop: () => {
      for (const child of children) child.kill("SIGTERM");
    },
  };
}
