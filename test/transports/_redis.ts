/** Redis test helpers: cleaning up what a namespace left on the shared server, an own server for faults. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { onPath, portOpen } from "./_broker.js";

/** Deletes the keys of these namespaces (stream, routes, dedupe and claim keys). */
export async function deleteNamespaces(raw: Redis, names: Iterable<string>): Promise<void> {
  for (const namespace of names) {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await raw.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== "0");
    if (keys.length > 0) await raw.del(...keys);
  }
}

/** A redis-server this test owns, appending to a file in a temporary dir: killed and restarted on it. */
export class OwnRedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), "agent-bus-redis-"));
  private process: ChildProcess | undefined;
  constructor(
    readonly port: number,
    /** More redis-server arguments (ACL users, TLS files). */
    private readonly extra: string[] = [],
    private readonly scheme: "redis" | "rediss" = "redis",
  ) {}

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const port =
      this.scheme === "rediss"
        ? ["--port", "0", "--tls-port", String(this.port)]
        : ["--port", String(this.port)];
    const args = [...port, "--bind", "127.0.0.1", "--save", "", "--dir", this.dir];
    // Later arguments win: `extra` may turn the AOF off.
    args.push("--appendonly", "yes", "--appendfsync", "everysec", ...this.extra);
    this.process = spawn("redis-server", args, { stdio: "ignore" });
    const deadline = Date.now() + 5000;
    while (!(await portOpen(this.port, "127.0.0.1", 200))) {
      if (Date.now() > deadline)
        throw new Error(`own redis-server did not listen on ${this.port} within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Sends the server a signal: SIGSTOP makes it a black hole (connections open, nothing answered). */
  signal(name: NodeJS.Signals): void {
    this.process?.kill(name);
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when redis-server is on PATH; CI (AGENT_BUS_REQUIRE_BROKERS=1) makes its absence a failure. */
export function hasRedisServer(): boolean {
  return onPath("redis-server", "the Redis fault tests");
}

/** A self-signed certificate for 127.0.0.1, its own CA, in a temporary dir (remove it after). */
export function selfSignedCertificate(): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "agent-bus-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", ...subject],
    { stdio: "ignore" },
  );
  return { dir, cert, key };
}
