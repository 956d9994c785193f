/** Finds out whether a broker answers; CI (AGENT_BUS_REQUIRE_BROKERS=1) makes its absence a failure. */
import { execFileSync } from "node:child_process";
import { createConnection } from "node:net";

export function portOpen(port: number, host = "127.0.0.1", timeout = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeout, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** True when the broker tests must be skipped; throws in CI when the broker is missing. */
export async function skipWithout(name: string, port: number): Promise<boolean> {
  if (await portOpen(port)) return false;
  const message = `${name} is not reachable on 127.0.0.1:${port}`;
  if (process.env.AGENT_BUS_REQUIRE_BROKERS === "1")
    throw new Error(`${message}, and AGENT_BUS_REQUIRE_BROKERS=1 requires it`);
  console.warn(`[agent-bus tests] skipping the ${name} tests: ${message} (start: nats-server -js)`);
  return true;
}

/**
 * True when a broker binary (nats-server, redis-server) is on PATH, for tests that start their
 * own; throws in CI when it is missing, and says what is skipped elsewhere.
 */
export function onPath(command: string, what: string): boolean {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    if (process.env.AGENT_BUS_REQUIRE_BROKERS === "1")
      throw new Error(`${command} is not on PATH, and AGENT_BUS_REQUIRE_BROKERS=1 requires it`);
    console.warn(`[agent-bus tests] skipping ${what}: ${command} is not on PATH`);
    return false;
  }
}
