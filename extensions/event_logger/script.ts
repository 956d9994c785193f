/** event_logger: the seed's Example 2, every event as one JSON line in a file of its data folder. */
import { createWriteStream } from "node:fs";
import { resolve } from "node:path";
import type { Envelope } from "agent-bus";
import type { ExtensionContext } from "agent-bus/host";

export const params = {
  display_name: "Event Logger",
  /** File name inside the extension's data folder. */
  file: "events.jsonl",
  /** Which events to log. */
  pattern: ">",
};

/** One line of the log: the envelope, or a stand-in when its data cannot be JSON. */
export function toLine(envelope: Envelope): string {
  try {
    return `${JSON.stringify(envelope)}\n`;
  } catch (error) {
    const data = `[unserializable: ${(error as Error).message}]`;
    return `${JSON.stringify({ ...envelope, data })}\n`;
  }
}

export function setup(ctx: ExtensionContext<typeof params>) {
  const path = resolve(ctx.dataDir, ctx.params.file);
  const stream = createWriteStream(path, { flags: "a" });
  stream.on("error", (error) => ctx.log.error(`cannot write ${path}`, error));
  let count = 0;
  ctx.bus.subscribe(
    ctx.params.pattern,
    (_data: unknown, envelope: Envelope) => {
      count++;
      stream.write(toLine(envelope));
    },
    { signal: ctx.signal },
  );
  ctx.log.info(`logging ${ctx.params.pattern} to ${path}`);
  return () =>
    new Promise<void>((done) => {
      stream.end(() => {
        ctx.log.info(`${count} event(s) written to ${path}`);
        done();
      });
    });
}
