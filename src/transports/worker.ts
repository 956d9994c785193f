/**
 * The worker transport: buses in the main thread and in worker threads (or web workers) on one
 * bus. The main thread's transport is the broker (queue groups, request routing); a worker's
 * transport talks to it over its port. Message ports keep order and lose nothing while both
 * sides live, so events are delivered exactly once, in order per publisher.
 */
import { shownValue } from "../_checks.js";
import { TransportError } from "../errors.js";
import type { Transport, TransportContext } from "../transport.js";
import { Hub, type HubAnswer, type HubDelivery, type HubLink, type HubReply } from "./_hub.js";
import { DEFAULT_MAX_PAYLOAD, LinkTransport } from "./_link.js";
import { bridge, type PortLike, PortLink } from "./_port.js";
import { assertNamespace } from "./memory.js";

export type { PortLike } from "./_port.js";

/** Options of `workerTransport()`. */
export interface WorkerTransportOptions {
  /**
   * Joins the broker at the other end of this port (a worker's side). Without `port` and
   * `ports`, a worker thread joins through its `parentPort`, the main thread becomes the broker.
   */
  port?: PortLike;
  /** Makes this side the broker and links these ports (Worker objects, MessagePorts) to it. */
  ports?: PortLike[];
  /**
   * Buses see only the events of their own namespace.
   * @default "agent-bus"
   */
  namespace?: string;
  /**
   * Largest encoded event in bytes, headers included; bigger ones throw a PayloadError.
   * @default 1048576
   */
  maxPayload?: number;
  /**
   * Milliseconds a worker waits for the broker to answer before `ready()` rejects.
   * @default 10000
   */
  connectTimeout?: number;
}

/** The transport of the broker side, which can link more ports later. */
export interface WorkerTransport extends Transport {
  /** Links one more port (a Worker started later); returns the unlink, which drops its subscriptions. */
  attach(port: PortLike): () => void;
}

/**
 * A transport for worker threads: one call in the main thread, one in each worker.
 * @example
 * // main thread
 * const worker = new Worker(new URL("./worker.js", import.meta.url));
 * const bus = new EventBus({ transport: workerTransport({ ports: [worker] }) });
 * // worker.js
 * const bus = new EventBus({ transport: workerTransport() });
 */
export function workerTransport(options: WorkerTransportOptions = {}): WorkerTransport {
  const { namespace = "agent-bus", maxPayload = DEFAULT_MAX_PAYLOAD, connectTimeout = 10_000 } = options;
  assertNamespace(namespace);
  if (!Number.isInteger(maxPayload) || maxPayload < 1) {
    throw new TypeError(`maxPayload must be a positive integer, got ${shownValue(maxPayload)}`);
  }
  if (options.port !== undefined && options.ports !== undefined) {
    throw new TypeError("workerTransport takes port (a worker's side) or ports (the broker side), not both");
  }
  const hub = new Hub();
  const detaches = new Set<() => void>();
  let broker = options.ports !== undefined;
  const attach = (port: PortLike) => {
    broker = true;
    const detach = bridge(hub, port);
    detaches.add(detach);
    return () => {
      detaches.delete(detach);
      detach();
    };
  };
  for (const port of options.ports ?? []) attach(port);
  const link = new SwitchLink(hub);
  let client: PortLink | undefined;
  const opening = async (context: TransportContext) => {
    const port = options.port ?? (broker ? undefined : await parentPort());
    if (port === undefined) return;
    // The hub's side went away (its bus closed, the port detached): what is published now is lost.
    client = new PortLink(port, () => {
      // context.log adds the "[EventBus:worker]" prefix the error carries.
      const reason =
        "the hub closed this worker's channel (its bus closed or the port was detached): events published from now on are lost";
      context.log(reason);
      context.status({ state: "disconnected", error: new TransportError(`[EventBus:worker] ${reason}`) });
    });
    link.target = client;
    await client.open(connectTimeout);
  };
  const closing = () => {
    client?.close();
    for (const detach of [...detaches]) detach();
  };
  const transport = new LinkTransport("worker", link, namespace, maxPayload, opening, closing);
  return Object.assign(transport, { attach });
}

/** The worker's own port: Node's `parentPort`, or a web worker's global scope. */
async function parentPort(): Promise<PortLike | undefined> {
  const scope = globalThis as { WorkerGlobalScope?: unknown; postMessage?: unknown };
  if (scope.WorkerGlobalScope !== undefined && typeof scope.postMessage === "function") {
    return globalThis as unknown as PortLike;
  }
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions
    ?.node;
  if (isNode !== "string") return undefined;
  const threads = await import("node:worker_threads");
  return threads.isMainThread || threads.parentPort === null
    ? undefined
    : (threads.parentPort as unknown as PortLike);
}

/** Forwards to the hub of this side, or to the port of a worker once connect() decided. */
class SwitchLink implements HubLink {
  constructor(public target: HubLink) {}
  publish(namespace: string, eventType: string, frame: unknown): void {
    this.target.publish(namespace, eventType, frame);
  }
  subscribe(
    namespace: string,
    pattern: string,
    group: string | undefined,
    delivery: HubDelivery,
  ): () => void {
    return this.target.subscribe(namespace, pattern, group, delivery);
  }
  respond(namespace: string, eventType: string, answer: HubAnswer): () => void {
    return this.target.respond(namespace, eventType, answer);
  }
  request(namespace: string, eventType: string, frame: unknown): Promise<HubReply> {
    return this.target.request(namespace, eventType, frame);
  }
  flush(): Promise<void> {
    return this.target.flush();
  }
}
