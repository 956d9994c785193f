/** Shutting a host down on SIGINT / SIGTERM. */
import type { Host } from "./types.js";

/** Options of `closeOnSignals()`. */
export interface CloseOnSignalsOptions {
  /**
   * Called with the exit code once the host closed (0), or at a second signal (1).
   * @default process.exit
   */
  exit?: (code: number) => void;
  /** @default ["SIGINT", "SIGTERM"] */
  signals?: readonly NodeJS.Signals[];
}

/**
 * On the first signal closes the host (teardowns in reverse order, then the bus) and exits 0;
 * a second signal while closing exits 1 at once.
 * @returns a function that removes the signal handlers.
 */
export function closeOnSignals(host: Host, options: CloseOnSignalsOptions = {}): () => void {
  const { exit = (code: number) => process.exit(code), signals = ["SIGINT", "SIGTERM"] } = options;
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received !== undefined) {
      console.error(`[host] ${signal} again while shutting down: exiting now`);
      exit(1);
      return;
    }
    received = signal;
    host.close(signal).then(
      () => exit(0),
      (error: unknown) => {
        console.error("[host] shutdown failed", error);
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
