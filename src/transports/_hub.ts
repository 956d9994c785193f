/**
 * An in-process broker: routes frames between the buses linked to it with the semantics of a
 * real one (namespaces, wildcard subjects, queue groups, request/reply), delivering
 * asynchronously and in publish order. The memory transport uses it directly; the worker
 * transport runs one in the main thread and links workers to it over message ports.
 */
import { NoResponderError } from "../errors.js";
import { matches } from "../patterns.js";
import type { FrameBody, WireError, WireFrame } from "./_codec.js";

/** What a responder sends back: the reply frame, or the error it failed with. */
export type HubReply =
  | { readonly ok: true; readonly frame: WireFrame<FrameBody> }
  | { readonly ok: false; readonly error: WireError };

/** Receives the raw frames of one subscription, with the event type they were published under. */
export type HubDelivery = (eventType: string, frame: unknown) => void;

/** Answers one request frame. */
export type HubAnswer = (frame: unknown) => Promise<HubReply>;

/** The broker operations a transport needs; the hub itself, or a proxy to it over a port. */
export interface HubLink {
  publish(namespace: string, eventType: string, frame: unknown): void;
  subscribe(namespace: string, pattern: string, group: string | undefined, delivery: HubDelivery): () => void;
  respond(namespace: string, eventType: string, answer: HubAnswer): () => void;
  request(namespace: string, eventType: string, frame: unknown): Promise<HubReply>;
  /** Resolves once everything published before the call has been handed to its subscribers. */
  flush(): Promise<void>;
}

interface Route<T> {
  readonly namespace: string;
  readonly pattern: string;
  readonly members: T[];
  cursor: number;
}

interface Pending {
  readonly namespace: string;
  readonly eventType: string;
  readonly frame: unknown;
}

/** A broker inside one JavaScript realm. */
export class Hub implements HubLink {
  private readonly plain = new Set<{ namespace: string; pattern: string; delivery: HubDelivery }>();
  /** Queue groups by namespace, pattern and name: each frame goes to one member, in turn. */
  private readonly groups = new Map<string, Route<HubDelivery>>();
  private readonly responders = new Map<string, Route<HubAnswer>>();
  private readonly queue: Pending[] = [];
  private draining = false;
  private readonly idle: (() => void)[] = [];

  publish(namespace: string, eventType: string, frame: unknown): void {
    this.queue.push({ namespace, eventType, frame });
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => this.drain());
    }
  }

  subscribe(
    namespace: string,
    pattern: string,
    group: string | undefined,
    delivery: HubDelivery,
  ): () => void {
    if (group === undefined) {
      const entry = { namespace, pattern, delivery };
      this.plain.add(entry);
      return () => {
        this.plain.delete(entry);
      };
    }
    return this.join(this.groups, `${namespace}\0${pattern}\0${group}`, namespace, pattern, delivery);
  }

  respond(namespace: string, eventType: string, answer: HubAnswer): () => void {
    const key = `${namespace}\0${eventType}`;
    return this.join(this.responders, key, namespace, eventType, answer);
  }

  request(namespace: string, eventType: string, frame: unknown): Promise<HubReply> {
    const route = this.responders.get(`${namespace}\0${eventType}`);
    const answer = route && pick(route);
    if (answer === undefined) return Promise.reject(new NoResponderError(eventType));
    return Promise.resolve().then(() => answer(frame));
  }

  flush(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private drain(): void {
    for (let message = this.queue.shift(); message !== undefined; message = this.queue.shift()) {
      const { namespace, eventType, frame } = message;
      for (const entry of [...this.plain]) {
        if (entry.namespace === namespace && matches(entry.pattern, eventType))
          this.hand(entry.delivery, message);
      }
      for (const route of this.groups.values()) {
        if (route.namespace !== namespace || !matches(route.pattern, eventType)) continue;
        const delivery = pick(route);
        if (delivery !== undefined) this.hand(delivery, { namespace, eventType, frame });
      }
    }
    this.draining = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** One subscriber's failure must not stop the others. */
  private hand(delivery: HubDelivery, message: Pending): void {
    try {
      delivery(message.eventType, message.frame);
    } catch (error) {
      console.error(`[EventBus:hub] a delivery of "${message.eventType}" threw: ${String(error)}`);
    }
  }

  private join<T>(
    routes: Map<string, Route<T>>,
    key: string,
    namespace: string,
    pattern: string,
    member: T,
  ): () => void {
    let route = routes.get(key);
    if (route === undefined) {
      route = { namespace, pattern, members: [], cursor: 0 };
      routes.set(key, route);
    }
    route.members.push(member);
    const joined = route;
    return () => {
      const index = joined.members.indexOf(member);
      if (index !== -1) joined.members.splice(index, 1);
      if (joined.members.length === 0 && routes.get(key) === joined) routes.delete(key);
    };
  }
}

function pick<T>(route: Route<T>): T | undefined {
  if (route.members.length === 0) return undefined;
  route.cursor %= route.members.length;
  return route.members[route.cursor++];
}
