/**
 * The subscriber connection: Redis puts a connection that subscribes into a mode where it can do
 * nothing else, so each bus has one for all its channels and patterns. Several listeners may
 * share a channel or pattern; Redis sees one SUBSCRIBE and one UNSUBSCRIBE.
 */
import type { Redis } from "ioredis";

/** Receives one message of a channel (or of a channel a pattern matched). */
export type Listener = (channel: string, message: string) => void;

/** A listener in place: `ready` once Redis confirmed the subscription. */
export interface Listening {
  readonly ready: Promise<void>;
  remove(): Promise<void>;
}

interface Target {
  readonly listeners: Set<Listener>;
  readonly ready: Promise<void>;
}

export class LiveSubscriptions {
  private readonly channels = new Map<string, Target>();
  private readonly patterns = new Map<string, Target>();

  constructor(
    private readonly connection: Redis,
    private readonly log: (message: string) => void,
  ) {
    connection.on("message", (channel: string, message: string) =>
      this.dispatch(this.channels.get(channel), channel, message),
    );
    connection.on("pmessage", (pattern: string, channel: string, message: string) =>
      this.dispatch(this.patterns.get(pattern), channel, message),
    );
  }

  /** Adds a listener to a channel, or to a Redis glob pattern when `glob`. */
  add(glob: boolean, name: string, listener: Listener): Listening {
    const targets = glob ? this.patterns : this.channels;
    let target = targets.get(name);
    if (target === undefined) {
      const subscribed = glob ? this.connection.psubscribe(name) : this.connection.subscribe(name);
      target = { listeners: new Set(), ready: subscribed.then(() => undefined) };
      targets.set(name, target);
    }
    target.listeners.add(listener);
    const { ready } = target;
    return {
      ready,
      remove: async () => {
        const current = targets.get(name);
        if (current === undefined || !current.listeners.delete(listener) || current.listeners.size > 0)
          return;
        targets.delete(name);
        // While reconnecting ioredis queues the command (else it would resubscribe); closed: nothing to do.
        if (this.connection.status === "end") return;
        await (glob ? this.connection.punsubscribe(name) : this.connection.unsubscribe(name));
      },
    };
  }

  private dispatch(target: Target | undefined, channel: string, message: string): void {
    if (target === undefined) return;
    for (const listener of [...target.listeners]) {
      try {
        listener(channel, message);
      } catch (error) {
        this.log(`a listener of "${channel}" threw: ${String(error)}`);
      }
    }
  }
}
