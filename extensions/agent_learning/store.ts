/** progress.json on disk: read at start, written atomically (temp file, then rename). */
import { readFileSync, renameSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { checkState, emptyState, type LearningState } from "./learning.js";

/** Reads the state; a missing file is a fresh start, an unusable one is set aside and reported. */
export function readState(file: string, warn: (message: string) => void): LearningState {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw error;
  }
  let problem: string;
  try {
    const state = checkState(JSON.parse(text));
    if (typeof state !== "string") return state;
    problem = state;
  } catch (error) {
    problem = (error as Error).message;
  }
  const aside = `${file}.bad-${Date.now()}`;
  renameSync(file, aside);
  warn(`${file} is unusable (${problem}); moved to ${aside}, starting fresh`);
  return emptyState();
}

/** Writes the file whole or not at all: readers see the old or the new content, never half. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

/**
 * Saves the latest state, one write at a time: a save asked for during a write is coalesced
 * into one more write of the then-latest state.
 */
export function createSaver(file: string, onError: (error: unknown) => void) {
  let latest: LearningState | undefined;
  let running: Promise<void> | undefined;
  const loop = async () => {
    while (latest !== undefined) {
      const state = latest;
      latest = undefined;
      try {
        await writeAtomically(file, `${JSON.stringify(state)}\n`);
      } catch (error) {
        onError(error);
      }
    }
    running = undefined;
  };
  return {
    save(state: LearningState): void {
      latest = state;
      running ??= loop();
    },
    /** Resolves once every asked-for save is on disk. */
    flush(): Promise<void> {
      return running ?? Promise.resolve();
    },
  };
}
