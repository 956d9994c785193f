/** Naming the likely reason when a NATS server drops a connection that stopped reading. */
import { performance } from "node:perf_hooks";
import { TransportError } from "../errors.js";

/** Blocking the event loop this long risks the server's write deadline (2 s by default in recent servers). */
export const STALL_MS = 500;

/**
 * Remembers callbacks that blocked the event loop. A process that stops reading its socket is
 * dropped by the server as a slow consumer, and the client sees only a disconnect: this names the
 * likely reason.
 */
export class StallWatch {
  private last: { pattern: string; ms: number; at: number } | undefined;
  /** The pattern of the delivery under way in this turn, and when it began. */
  private open: string | undefined = undefined;
  private openedAt = 0;

  constructor(private readonly log: (message: string) => void) {}

  /**
   * Marks the start of a delivery. The client delivers what one read brought in one synchronous
   * run, so a delivery ends where the next begins, or with the run, which a microtask marks: one
   * clock read a delivery instead of two (each ~150 instructions, callgrind).
   */
  begin(pattern: string): void {
    const now = performance.now();
    if (this.open === undefined) queueMicrotask(this.endRun);
    else this.observe(this.open, now - this.openedAt);
    this.open = pattern;
    this.openedAt = now;
  }

  private readonly endRun = (): void => {
    const open = this.open;
    if (open === undefined) return;
    this.open = undefined;
    this.observe(open, performance.now() - this.openedAt);
  };

  /** Records one delivery's synchronous time; logs when it blocked for STALL_MS or more. */
  observe(pattern: string, ms: number): void {
    if (ms < STALL_MS) return;
    this.last = { pattern, ms: Math.round(ms), at: Date.now() };
    this.log(
      `a callback on "${pattern}" blocked the event loop for ${Math.round(ms)} ms: the server drops a connection that stops reading (slow consumer), and live events sent meanwhile are lost`,
    );
  }

  /** The reason for a disconnect that follows a recent stall, once. */
  explain(): TransportError | undefined {
    const last = this.last;
    this.last = undefined;
    if (last === undefined || Date.now() - last.at > 10_000) return undefined;
    return new TransportError(
      `[EventBus:nats] disconnected after a callback on "${last.pattern}" blocked for ${last.ms} ms: probably dropped by the server as a slow consumer; live events sent meanwhile are lost`,
    );
  }
}
