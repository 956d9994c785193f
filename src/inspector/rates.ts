/** Events per second over the last minutes, in total and per type, in fixed memory. */

/** A ring of per-second counters. */
class SecondRing {
  readonly counts: number[];
  readonly seconds: number[];

  constructor(size: number) {
    this.counts = new Array(size).fill(0);
    this.seconds = new Array(size).fill(-1);
  }

  add(second: number): void {
    const slot = second % this.counts.length;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    (this.counts[slot] as number)++;
  }

  /** Counts for the `length` seconds up to and including `last`, oldest first. */
  series(last: number, length: number): number[] {
    const series: number[] = [];
    for (let second = last - length + 1; second <= last; second++) {
      const slot = ((second % this.counts.length) + this.counts.length) % this.counts.length;
      series.push(this.seconds[slot] === second ? (this.counts[slot] as number) : 0);
    }
    return series;
  }

  total(last: number, length: number): number {
    return this.series(last, length).reduce((sum, count) => sum + count, 0);
  }
}

export class RateHistory {
  private readonly all: SecondRing;
  private readonly byType = new Map<string, SecondRing>();

  /**
   * @param windowSeconds how far back the history reaches
   * @param maxTypes types tracked one by one; the busiest are kept when more appear
   */
  constructor(
    readonly windowSeconds = 300,
    private readonly maxTypes = 200,
    private readonly now: () => number = Date.now,
  ) {
    this.all = new SecondRing(windowSeconds);
  }

  count(eventType: string): void {
    const second = Math.floor(this.now() / 1000);
    this.all.add(second);
    let ring = this.byType.get(eventType);
    if (ring === undefined) {
      if (this.byType.size >= this.maxTypes) this.evictQuietest(second);
      ring = new SecondRing(this.windowSeconds);
      this.byType.set(eventType, ring);
    }
    ring.add(second);
  }

  /** Events per second, oldest first, for the total and for the `top` busiest types. */
  snapshot(length = 120, top = 5): { seconds: number; total: number[]; byType: Record<string, number[]> } {
    const last = Math.floor(this.now() / 1000);
    const span = Math.min(length, this.windowSeconds);
    const ranked = [...this.byType]
      .map(([eventType, ring]) => [eventType, ring.total(last, span), ring] as const)
      .filter(([, total]) => total > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    const byType: Record<string, number[]> = {};
    for (const [eventType, , ring] of ranked) byType[eventType] = ring.series(last, span);
    return { seconds: last, total: this.all.series(last, span), byType };
  }

  private evictQuietest(second: number): void {
    let quietest: string | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const [eventType, ring] of this.byType) {
      const total = ring.total(second, this.windowSeconds);
      if (total < least) {
        least = total;
        quietest = eventType;
      }
    }
    if (quietest !== undefined) this.byType.delete(quietest);
  }
}
