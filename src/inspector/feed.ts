/**
 * The live feed: server-sent events to each open page. A slow or vanished browser must not slow
 * the bus nor grow memory: each client has a bounded queue that drops its oldest frames, and says
 * how many it dropped.
 */
import type { ServerResponse } from "node:http";
import type { Envelope } from "../envelope.js";

/** Options of the live feed. */
export interface FeedOptions {
  /**
   * Frames queued per client while its connection is backed up; the oldest go first.
   * @default 1000
   */
  clientBuffer?: number;
}

class FeedClient {
  dropped = 0;
  private readonly queue: string[] = [];
  private blocked = false;
  private reported = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly capacity: number,
  ) {
    response.on("drain", () => {
      this.blocked = false;
      this.flush();
    });
  }

  send(frame: string): void {
    if (this.queue.length >= this.capacity) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(frame);
    if (!this.blocked) this.flush();
  }

  private flush(): void {
    if (this.dropped !== this.reported) {
      this.reported = this.dropped;
      this.queue.unshift(`event: dropped\ndata: ${JSON.stringify({ dropped: this.dropped })}\n\n`);
    }
    while (this.queue.length > 0 && !this.blocked) {
      const frame = this.queue.shift() as string;
      // write() returning false means the socket buffer is full: wait for 'drain'.
      this.blocked = !this.response.write(frame);
    }
  }
}

export class LiveFeed {
  private readonly clients = new Set<FeedClient>();
  private pending: Envelope[] = [];
  private scheduled = false;
  private readonly capacity: number;
  droppedTotal = 0;

  constructor(options: FeedOptions = {}) {
    this.capacity = options.clientBuffer ?? 1000;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Turns a GET into an event stream; `backlog` goes first. */
  open(response: ServerResponse, backlog: readonly Envelope[]): void {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    response.write("retry: 2000\n\n");
    const client = new FeedClient(response, this.capacity);
    for (const envelope of backlog) client.send(frame(envelope));
    this.clients.add(client);
    const forget = () => {
      this.droppedTotal += client.dropped;
      this.clients.delete(client);
    };
    response.on("close", forget);
    response.on("error", forget);
  }

  /**
   * Queues an event for every client. Called from a bus callback, so it only appends:
   * encoding and writing happen once per batch, after the publish returned.
   */
  push(envelope: Envelope): void {
    if (this.clients.size === 0) return;
    if (this.pending.length >= this.capacity) {
      this.pending.shift();
      this.droppedTotal++;
    }
    this.pending.push(envelope);
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), 0);
    }
  }

  /** Events dropped for slow clients so far, those still connected included. */
  dropped(): number {
    let total = this.droppedTotal;
    for (const client of this.clients) total += client.dropped;
    return total;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const envelope of batch) {
      const text = frame(envelope);
      for (const client of this.clients) client.send(text);
    }
  }
}

function frame(envelope: Envelope): string {
  return `event: cloudevent\ndata: ${safeJson(envelope)}\n\n`;
}

/** JSON that never throws: data that cannot be encoded is replaced by a note saying why. */
export function safeJson(envelope: Envelope): string {
  try {
    return JSON.stringify(envelope, (_key, value: unknown) =>
      typeof value === "bigint"
        ? `${value}n`
        : value instanceof Uint8Array
          ? `<${value.length} bytes>`
          : value,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return JSON.stringify({ ...envelope, data: `<not shown: ${reason}>` });
  }
}
