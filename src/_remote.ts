/**
 * The bus's side of a transport: one remote subscription per pattern (and per group), opened
 * with the first local subscriber and closed with the last, and a queue for whatever the bus
 * asks before the transport is connected.
 */
import type { Group, SubscriberList } from "./_subscribers.js";
import type { Envelope } from "./envelope.js";
import { describeError, PayloadError, TransportError } from "./errors.js";
import type {
  RemoteRequestOptions,
  RemoteResponder,
  RemoteSubscribeOptions,
  RemoteSubscription,
  Transport,
  TransportStatus,
} from "./transport.js";

export interface RemoteHooks {
  deliver(list: SubscriberList, envelope: Envelope): void;
  deliverGroup(group: Group, envelope: Envelope): Promise<void> | undefined;
  status: ((status: TransportStatus) => void) | undefined;
}

/** A remote subscription that may still be waiting for the connection. */
interface Handle {
  subscription: RemoteSubscription | undefined;
  cancelled: boolean;
  /** What it subscribes, for an error that names it: `"task.*"`, with its group or durable name. */
  readonly what: string;
}

export class Remote {
  readonly ready: Promise<void>;
  readonly name: string;
  readonly groups: boolean;
  readonly durable: boolean;
  private connected = false;
  /** Why connect() failed, once it did: every publish is refused from then on. */
  private unreachable: { readonly error: unknown } | undefined;
  /** Why the transport closed for good (its client gave up reconnecting): `settled` rejects. */
  private gone: { readonly error: unknown } | undefined;
  /** Remote subscriptions whose `ready` has not settled yet. */
  private readonly unsettled = new Set<Promise<void>>();
  private readonly pending: (() => void)[] = [];
  /** Remote subscriptions that could not be put in place, and why: `settled` rejects while one is kept. */
  private readonly failed = new Map<Handle, unknown>();

  constructor(
    private readonly transport: Transport,
    origin: string,
    idPrefix: string,
    private readonly hooks: RemoteHooks,
  ) {
    this.name = transport.name;
    this.groups = transport.capabilities.groups;
    this.durable = transport.capabilities.durable;
    const log = (message: string) => console.warn(`[EventBus:${transport.name}] ${message}`);
    this.ready = transport.connect({ origin, idPrefix, log, status: (status) => this.follow(status) }).then(
      () => {
        this.connected = true;
        for (const operation of this.pending.splice(0)) this.run(operation);
      },
      (error: unknown) => {
        // Nothing queued will ever go out: drop it, and refuse what comes next, rather than
        // let publishes pile up for a connection that is not coming.
        this.unreachable = { error };
        const dropped = this.pending.splice(0).length;
        if (dropped > 0) {
          log(
            `the transport did not connect (${describeError(error)}): ${dropped} queued operation(s) dropped`,
          );
        }
        throw error;
      },
    );
    // The rejection belongs to whoever awaits ready(); do not also report it as unhandled.
    this.ready.catch(() => undefined);
  }

  /** Encodes now (so a bad payload throws before local delivery), sends once connected. */
  publish(envelope: Envelope): void {
    if (this.unreachable !== undefined) {
      throw new TransportError(
        `[EventBus:${this.name}] cannot publish "${envelope.type}": the transport did not connect (${describeError(this.unreachable.error)})`,
        { cause: this.unreachable.error },
      );
    }
    if (this.gone !== undefined) {
      throw new TransportError(
        `[EventBus:${this.name}] publish of "${envelope.type}" refused: the connection is closed (${this.goneReason()})`,
        { cause: this.gone.error },
      );
    }
    const frame = this.transport.encode(envelope);
    this.whenConnected(() => this.transport.send(frame));
  }

  /**
   * Throws the PayloadError that publishing this envelope would, without sending it (a refusal
   * for the connection's state, a TransportError, is not this check's business).
   */
  checkPayload(envelope: Envelope): void {
    try {
      this.transport.encode(envelope);
    } catch (error) {
      if (error instanceof PayloadError) throw error;
    }
  }

  watch(list: SubscriberList): void {
    list.remote = this.open(list.pattern, {}, (envelope) => this.hooks.deliver(list, envelope));
  }

  unwatch(list: SubscriberList): void {
    this.cancel(list.remote as Handle | undefined);
    list.remote = undefined;
  }

  watchGroup(list: SubscriberList, group: Group, durable: boolean): void {
    const options: RemoteSubscribeOptions = durable ? { durable: group.name } : { group: group.name };
    if (!durable && !this.groups) return;
    group.remote = this.open(list.pattern, options, (envelope) => this.hooks.deliverGroup(group, envelope), {
      what: `"${list.pattern}" (${durable ? "durable" : "group"} "${group.name}")`,
    });
  }

  unwatchGroup(group: Group): void {
    this.cancel(group.remote as Handle | undefined);
    group.remote = undefined;
  }

  respond(eventType: string, responder: RemoteResponder): Handle {
    const handle: Handle = {
      subscription: undefined,
      cancelled: false,
      what: `the responder of "${eventType}"`,
    };
    this.whenConnected(() => this.place(handle, () => this.transport.respond(eventType, responder)));
    return handle;
  }

  request(envelope: Envelope, options: RemoteRequestOptions): Promise<unknown> {
    return this.ready.then(() => this.transport.request(envelope, options));
  }

  cancel(handle: Handle | undefined): void {
    if (handle === undefined || handle.cancelled) return;
    handle.cancelled = true;
    this.failed.delete(handle);
    const result: unknown = handle.subscription?.unsubscribe();
    // A transport may return anything here; only a promise can fail later.
    if (result instanceof Promise)
      result.catch((error: unknown) => this.log(`unsubscribe failed: ${String(error)}`));
  }

  async close(): Promise<void> {
    // A connect that waits for a server would hold close() for as long as the server stays away.
    if (!this.connected && this.unreachable === undefined) this.transport.abandon?.();
    await this.ready.catch(() => undefined);
    await this.transport.close();
  }

  private open(
    pattern: string,
    options: RemoteSubscribeOptions,
    delivery: (envelope: Envelope) => void | Promise<void>,
    { what = `"${pattern}"` } = {},
  ): Handle {
    const handle: Handle = { subscription: undefined, cancelled: false, what };
    this.whenConnected(() => this.place(handle, () => this.transport.subscribe(pattern, options, delivery)));
    return handle;
  }

  /**
   * Resolves once connected and every remote subscription made so far is in place; rejects,
   * naming it, while one that could not be put in place is kept (the error is logged too).
   */
  async settled(): Promise<void> {
    await this.ready;
    if (this.gone !== undefined) {
      throw new TransportError(
        `[EventBus:${this.name}] the connection closed for good: ${this.goneReason()}`,
        { cause: this.gone.error },
      );
    }
    while (this.unsettled.size > 0) await Promise.all([...this.unsettled]);
    const first = this.failed.entries().next();
    if (first.done === true) return;
    const [handle, error] = first.value;
    const more = this.failed.size > 1 ? ` (and ${this.failed.size - 1} more)` : "";
    throw new TransportError(
      `[EventBus:${this.name}] subscription to ${handle.what} not in place${more}: ${describeError(error)}`,
      { cause: error },
    );
  }

  /** Why the transport closed for good, without the transport's own `[EventBus:name]` prefix. */
  private goneReason(): string {
    return describeError(this.gone?.error).replace(/^\[EventBus:[^\]]*\] /u, "");
  }

  /** Passes a status on; a close with an error (not the bus's own close) is remembered. */
  private follow(status: TransportStatus): void {
    if (status.state === "closed" && status.error !== undefined) this.gone = { error: status.error };
    this.hooks.status?.(status);
  }

  /** Opens a remote subscription now (connected), unless it was cancelled meanwhile. */
  private place(handle: Handle, subscribe: () => RemoteSubscription): void {
    if (handle.cancelled) return;
    try {
      this.track(handle, subscribe());
    } catch (error) {
      this.notInPlace(handle, error);
    }
  }

  private track(handle: Handle, subscription: RemoteSubscription): void {
    handle.subscription = subscription;
    const { ready } = subscription;
    if (ready === undefined) return;
    const settled = ready.then(
      () => undefined,
      (error: unknown) => this.notInPlace(handle, error),
    );
    this.unsettled.add(settled);
    void settled.finally(() => this.unsettled.delete(settled));
  }

  private notInPlace(handle: Handle, error: unknown): void {
    this.log(`subscription to ${handle.what} not in place: ${describeError(error)}`);
    if (!handle.cancelled) this.failed.set(handle, error);
  }

  private whenConnected(operation: () => void): void {
    if (this.connected) this.run(operation);
    else if (this.unreachable === undefined) this.pending.push(operation);
  }

  private run(operation: () => void): void {
    try {
      operation();
    } catch (error) {
      this.log(String(error));
    }
  }

  private log(message: string): void {
    console.warn(`[EventBus:${this.transport.name}] ${message}`);
  }
}
