/**
 * The in-memory transport: several buses in one process linked as if through a broker, with
 * namespaces, queue groups, request/reply and echo suppression, every event copied through the
 * wire format. For tests of distributed code, and for the conformance suite's reference run.
 */
import { shownValue } from "../_checks.js";
import type { Transport } from "../transport.js";
import { Hub } from "./_hub.js";
import { DEFAULT_MAX_PAYLOAD, LinkTransport } from "./_link.js";

/** An in-process broker that memory transports link to; see `createMemoryHub`. */
export interface MemoryHub {
  /** Resolves once every event published so far has been handed to its subscribers. */
  flush(): Promise<void>;
  /** Puts a raw frame on the wire as another publisher would, unchecked: for tests of bad input. */
  inject(namespace: string, eventType: string, frame: unknown): void;
}

/** Options of `memoryTransport()`. */
export interface MemoryTransportOptions {
  /**
   * The broker to link to; buses on different hubs never see each other.
   * @default the process-wide hub
   */
  hub?: MemoryHub;
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
}

const hubs = new WeakMap<MemoryHub, Hub>();

/** Creates an in-process broker for `memoryTransport({ hub })`. */
export function createMemoryHub(): MemoryHub {
  const hub = new Hub();
  const handle: MemoryHub = {
    flush: () => hub.flush(),
    inject: (namespace, eventType, frame) => hub.publish(namespace, eventType, frame),
  };
  hubs.set(handle, hub);
  return handle;
}

let processHub: MemoryHub | undefined;

/**
 * A transport that links buses of one process through an in-memory broker.
 * @example
 * const hub = createMemoryHub();
 * const a = new EventBus({ transport: memoryTransport({ hub }) });
 * const b = new EventBus({ transport: memoryTransport({ hub }) });
 * b.subscribe("task.done", (data) => console.log(data));
 * a.publish("task.done", { id: 1 });
 */
export function memoryTransport(options: MemoryTransportOptions = {}): Transport {
  const { namespace = "agent-bus", maxPayload = DEFAULT_MAX_PAYLOAD } = options;
  processHub ??= createMemoryHub();
  const hub = hubs.get(options.hub ?? processHub);
  if (hub === undefined) throw new TypeError("hub must come from createMemoryHub()");
  assertNamespace(namespace);
  if (!Number.isInteger(maxPayload) || maxPayload < 1) {
    throw new TypeError(`maxPayload must be a positive integer, got ${shownValue(maxPayload)}`);
  }
  return new LinkTransport("memory", hub, namespace, maxPayload);
}

/** Throws a TypeError unless the namespace is usable as the first tokens of a subject. */
export function assertNamespace(namespace: unknown): asserts namespace is string {
  if (typeof namespace !== "string" || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/u.test(namespace)) {
    throw new TypeError(
      `namespace must be dot-separated tokens of letters, digits, "_" or "-", got ${JSON.stringify(namespace)}`,
    );
  }
}
