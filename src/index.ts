/**
 * agent-bus: a typed publish/subscribe event bus for agents and extensions.
 * @example
 * import { bus } from "agent-bus";
 * bus.subscribe("task_completed", (data) => console.log(data));
 * bus.publish("task_completed", { task_id: 1, success: true });
 */
import { EventBus } from "./bus.js";

export { DEFAULT_REQUEST_TIMEOUT } from "./_responders.js";
export type { EventStream, EventStreamOptions, OverflowPolicy } from "./_stream.js";
export { EventBus } from "./bus.js";
export type { Envelope, PublishOptions } from "./envelope.js";
export { createEnvelope } from "./envelope.js";
export {
  AgentBusError,
  BusClosedError,
  NoResponderError,
  OverflowError,
  PayloadError,
  PublishDepthError,
  TimeoutError,
  TransportError,
} from "./errors.js";
export type {
  AnyEvents,
  Callback,
  EventTypeOf,
  KnownPattern,
  MatchingTypes,
  PayloadOf,
  PublishArgs,
  ReplyOf,
  Responder,
} from "./event-map.js";
export type {
  DeliveryObserver,
  DeliveryRecord,
  DeliveryReport,
  ErrorContext,
  EventBusOptions,
  OnceOptions,
  RequestOptions,
  SubscribeOptions,
  Unsubscribe,
} from "./options.js";
export { assertEventType, assertPattern, isPattern, MAX_EVENT_TYPE_LENGTH, matches } from "./patterns.js";
export type {
  RemoteDelivery,
  RemoteRequestOptions,
  RemoteResponder,
  RemoteSubscribeOptions,
  RemoteSubscription,
  Transport,
  TransportCapabilities,
  TransportContext,
  TransportStatus,
} from "./transport.js";
export type { MemoryHub, MemoryTransportOptions } from "./transports/memory.js";
export { createMemoryHub, memoryTransport } from "./transports/memory.js";

/**
 * Where the shared bus is kept: on globalThis, so that two copies of agent-bus in one process
 * (a global CLI and a project's own dependency) still share one bus, as the seed's single
 * Python module does. The number changes only if the bus's API ever changes incompatibly.
 */
const SHARED_BUS = Symbol.for("agent-bus.shared-bus.v1");

function sharedBus(): EventBus {
  const registry = globalThis as Record<symbol, EventBus | undefined>;
  registry[SHARED_BUS] ??= new EventBus();
  return registry[SHARED_BUS];
}

/** The shared default bus of the process, as the seed's `from extensions.agent_bus.bus import bus`. */
export const bus: EventBus = sharedBus();
