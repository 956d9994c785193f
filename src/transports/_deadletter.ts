/**
 * The `bus.deadletter` event that durable transports publish when an event failed its last
 * allowed delivery: one name and one shape whatever the broker, so one subscriber handles all.
 */
import { createEnvelope, type Envelope } from "../envelope.js";

/** Event type of dead letters. */
export const DEAD_LETTER_TYPE = "bus.deadletter";

/** Data of a `bus.deadletter` event. */
export interface DeadLetter {
  /** The durable subscription (or group) that gave up. */
  readonly consumer: string;
  /** Deliveries made, the last one included. */
  readonly deliveries: number;
  /** What the last delivery failed with. */
  readonly error: { readonly name: string; readonly message: string };
  /** The event that was not delivered. */
  readonly event: Envelope;
}

/** Builds the dead letter of an event; its id derives from the event's, so resends dedupe. */
export function createDeadLetter(
  envelope: Envelope,
  consumer: string,
  deliveries: number,
  error: unknown,
): Envelope<DeadLetter> {
  const data: DeadLetter = {
    consumer,
    deliveries,
    error:
      error instanceof Error
        ? { name: error.name, message: error.message }
        : { name: "Error", message: String(error) },
    event: envelope,
  };
  return createEnvelope(
    DEAD_LETTER_TYPE,
    data,
    `agent-bus/deadletter/${consumer}`,
    `${envelope.id}:deadletter`,
  );
}
