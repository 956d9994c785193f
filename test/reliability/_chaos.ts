/**
 * The chaos harness: a private broker, a TCP proxy of our own between it and a subscriber process,
 * publishers in this process sending numbered events on a live and a durable subscription, faults
 * injected mid-run, and the accounting of what arrived.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { EventBus } from "../../src/index.js";
import { natsTransport } from "../../src/transports/nats.js";
import { redisTransport } from "../../src/transports/redis.js";
import { waitFor } from "../conformance/helpers.js";
import { freePort } from "../transports/_processes.js";

const subscriberScript = fileURLToPath(new URL("./fixtures/chaos-subscriber.ts", import.meta.url));

/** A TCP proxy: forwards to a port, and can cut every connection (RST) or black-hole them. */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  port = 0;
  cuts = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((client) => {
      const upstream = createConnection({ port: this.target, host: "127.0.0.1" });
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
  }

  /** Resets every proxied connection at once, as a broken network path would. */
  cut(): void {
    for (const [client, upstream] of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
      this.cuts++;
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A subscriber process; its JSON lines are kept in arrival order. */
export class ChaosSubscriber {
  readonly lines: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  constructor(url: string, namespace: string, sink: Record<string, unknown>[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", subscriberScript, url, namespace], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let rest = "";
    this.child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) {
        if (!part.trim()) continue;
        const line = JSON.parse(part) as Record<string, unknown>;
        this.lines.push(line);
        sink.push(line);
      }
    });
  }

  ready(): Promise<void> {
    return waitFor(() => this.lines.some((line) => "ready" in line), "the subscriber process", 20_000);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await exited;
  }
}

export type BrokerKind = "nats" | "redis";

/**
 * A bus straight to the broker (not through the proxy): the publishers' side. `acks` (NATS) makes
 * it the durable tier's publisher: JetStream acknowledges each event, resent until it did.
 */
export function publisherBus(kind: BrokerKind, port: number, namespace: string, acks: boolean): EventBus {
  const transport =
    kind === "nats"
      ? natsTransport({
          servers: `nats://127.0.0.1:${port}`,
          namespace,
          acks,
          reconnectTimeWait: 100,
          maxReconnectAttempts: -1,
        })
      : redisTransport({ url: `redis://127.0.0.1:${port}`, namespace, retryStrategy: () => 50 });
  return new EventBus({ transport, onError: () => undefined });
}

/** What a fault does to the run, at its start and at its end. */
export interface Fault {
  readonly injected: string;
  /** The documented live loss: the subscriber (or the broker) is away, so live events may be lost. */
  readonly liveWindow: boolean;
  start(run: ChaosRun): Promise<void>;
  end(run: ChaosRun): Promise<void>;
}

/** The state of one chaos run that faults act on. */
export interface ChaosRun {
  readonly kind: BrokerKind;
  readonly namespace: string;
  readonly proxy: TcpProxy;
  readonly lines: Record<string, unknown>[];
  subscriber: ChaosSubscriber;
  restartBroker?: { kill(): Promise<void>; start(): Promise<void>; signal(name: NodeJS.Signals): void };
}
