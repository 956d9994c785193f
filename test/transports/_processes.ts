/** Real processes for the fault tests: an own nats-server on a free port, and Node peers. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { portOpen } from "./_broker.js";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A nats-server with JetStream that this test owns: start, kill, restart on the same port and store. */
export class OwnNatsServer {
  readonly store = mkdtempSync(join(tmpdir(), "agent-bus-nats-"));
  private process: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(
      "nats-server",
      ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.store],
      {
        stdio: "ignore",
      },
    );
    const deadline = Date.now() + 5000;
    while (!(await portOpen(this.port, "127.0.0.1", 200))) {
      if (Date.now() > deadline) throw new Error(`own nats-server did not listen on ${this.port} within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
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
    rmSync(this.store, { recursive: true, force: true });
  }
}

/** A Node child process running a TypeScript fixture; collects its JSON output lines. */
export class Peer {
  readonly lines: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  constructor(script: string, args: string[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let rest = "";
    this.child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) if (part.trim()) this.lines.push(JSON.parse(part) as Record<string, unknown>);
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill(signal);
    await exited;
  }
}
