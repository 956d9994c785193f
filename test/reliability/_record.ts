/**
 * Jepsen-style accounting for the reliability tests: what was sent, what arrived, and the row each
 * test hands to RELIABILITY.md through its task meta (the reporter renders it, never a person).
 */
import type { TestContext } from "vitest";

/** One row of RELIABILITY.md: what was injected and what came of it. */
export interface Tally {
  /** The fault or input, in a few words. */
  injected: string;
  /** Events (or inputs) sent. */
  sent: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** What the figures mean against the documented guarantee. */
  note?: string;
}

declare module "vitest" {
  interface TaskMeta {
    reliability?: Tally[];
  }
}

/** Attaches a row to the running test; a test may record several (one per guarantee tier). */
export function record(context: TestContext, tally: Tally): Tally {
  context.task.meta.reliability ??= [];
  context.task.meta.reliability.push(tally);
  return tally;
}

/** Counts of one delivery log against what was sent. */
export interface Accounting {
  sent: number;
  delivered: number;
  unique: number;
  lost: number;
  duplicated: number;
  /** Deliveries that arrived after one sent later than them (duplicates not counted). */
  reordered: number;
  /** Sequence numbers sent but never delivered, ascending. */
  missing: number[];
}

/**
 * Compares what arrived with what was sent, by sequence number (the event's id carries it).
 * @param sent sequence numbers in the order they were published
 * @param received sequence numbers in the order they arrived, duplicates included
 */
export function account(sent: readonly number[], received: readonly number[]): Accounting {
  const order = new Map(sent.map((seq, index) => [seq, index]));
  const seen = new Set<number>();
  let duplicated = 0;
  let reordered = 0;
  let highest = -1;
  for (const seq of received) {
    if (seen.has(seq)) {
      duplicated++;
      continue;
    }
    seen.add(seq);
    const index = order.get(seq) ?? -1;
    if (index < highest) reordered++;
    else highest = index;
  }
  const missing = sent.filter((seq) => !seen.has(seq));
  return {
    sent: sent.length,
    delivered: received.length,
    unique: seen.size,
    lost: missing.length,
    duplicated,
    reordered,
    missing,
  };
}

/** Keeps the first delivery of each id: what a subscriber does to remove at-least-once duplicates. */
export function dedupe<T>(received: readonly T[]): T[] {
  return [...new Set(received)];
}

/** Ranges like "150-199, 230" of sorted sequence numbers, for a readable note. */
export function ranges(sorted: readonly number[]): string {
  const parts: string[] = [];
  let start: number | undefined;
  let previous: number | undefined;
  for (const seq of [...sorted, Number.NaN]) {
    if (previous !== undefined && seq === previous + 1) {
      previous = seq;
      continue;
    }
    if (start !== undefined) parts.push(start === previous ? `${start}` : `${start}-${previous}`);
    start = previous = Number.isNaN(seq) ? undefined : seq;
  }
  return parts.join(", ");
}
