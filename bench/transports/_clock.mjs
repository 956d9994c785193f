/**
 * One clock for publisher and subscriber processes. `process.hrtime` counts from an arbitrary
 * point per process as far as Node promises, so latency stamps use the wall-clock-anchored
 * `performance.timeOrigin + performance.now()` (ms, µs resolution) on both sides.
 *
 * Its one weakness: each process anchors it once, at start-up, from a wall-clock reading, so two
 * processes may disagree by a constant. On Linux `hrtime` is CLOCK_MONOTONIC, which all processes
 * share, so `anchor()` (wall-anchored clock minus hrtime) differs between two processes by exactly
 * that constant: the runner records it as the clock bias of every latency case.
 */

export function now() {
  return performance.timeOrigin + performance.now();
}

/**
 * This process's wall-clock anchor relative to CLOCK_MONOTONIC, in ms: of 50 readings the one
 * with the narrowest bracket, since a preempted reading is off by the time it was preempted.
 */
export function anchor() {
  let best = Number.POSITIVE_INFINITY;
  let value = 0;
  for (let i = 0; i < 50; i++) {
    const a = now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const b = now();
    if (b - a < best) {
      best = b - a;
      value = (a + b) / 2 - mono;
    }
  }
  return value;
}
