/**
 * The timer loop: process.hrtime.bigint around batches of operations, so that reading the clock
 * costs nothing next to the work. Batch size is calibrated after the warm-up, on optimised code.
 */

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function calibrate(op, targetMs) {
  let batch = 1;
  for (;;) {
    const start = nowMs();
    runBatch(op, batch);
    if (nowMs() - start >= targetMs || batch >= 1 << 24) return batch;
    batch *= 2;
  }
}

/**
 * The timed loop, one function for calibration, warm-up and samples alike: written out three
 * times in one function it was inlined into one copy only, as far as the JIT's inlining budget
 * went, so a library's speed depended on the size of its publish code rather than on its work.
 */
function runBatch(op, batch) {
  for (let i = 0; i < batch; i++) op();
}

/** Ops per second of a synchronous operation, one number per sample. */
export function measureSync(op, { warmupMs, samples, sampleMs }) {
  let batch = calibrate(op, Math.min(1, sampleMs / 20));
  const warmupEnd = nowMs() + warmupMs;
  while (nowMs() < warmupEnd) runBatch(op, batch);
  batch = calibrate(op, Math.min(1, sampleMs / 20));
  const results = [];
  for (let s = 0; s < samples; s++) {
    let count = 0;
    const start = nowMs();
    let elapsed;
    do {
      runBatch(op, batch);
      count += batch;
      elapsed = nowMs() - start;
    } while (elapsed < sampleMs);
    results.push((count * 1000) / elapsed);
  }
  return results;
}

/**
 * Ops per second of a synchronous operation that queues promise jobs (emittery's subscribe
 * emits listenerAdded asynchronously): the queue is drained after every batch, as an event loop
 * would, instead of growing for the whole sample.
 */
export async function measureSyncDrained(op, { warmupMs, samples, sampleMs }) {
  const batch = calibrate(op, Math.min(1, sampleMs / 20));
  const warmupEnd = nowMs() + warmupMs;
  while (nowMs() < warmupEnd) {
    runBatch(op, batch);
    await drain();
  }
  const results = [];
  for (let s = 0; s < samples; s++) {
    let count = 0;
    const start = nowMs();
    let elapsed;
    do {
      runBatch(op, batch);
      await drain();
      count += batch;
      elapsed = nowMs() - start;
    } while (elapsed < sampleMs);
    results.push((count * 1000) / elapsed);
  }
  return results;
}

const drain = () => new Promise((resolve) => setImmediate(resolve));

async function calibrateAsync(op, targetMs) {
  let batch = 1;
  for (;;) {
    const start = nowMs();
    for (let i = 0; i < batch; i++) await op();
    if (nowMs() - start >= targetMs || batch >= 1 << 24) return batch;
    batch *= 2;
  }
}

/** Ops per second of an operation returning a promise, awaited one after the other. */
export async function measureAsync(op, { warmupMs, samples, sampleMs }) {
  let batch = await calibrateAsync(op, Math.min(1, sampleMs / 20));
  const warmupEnd = nowMs() + warmupMs;
  while (nowMs() < warmupEnd) for (let i = 0; i < batch; i++) await op();
  batch = await calibrateAsync(op, Math.min(1, sampleMs / 20));
  const results = [];
  for (let s = 0; s < samples; s++) {
    let count = 0;
    const start = nowMs();
    let elapsed;
    do {
      for (let i = 0; i < batch; i++) await op();
      count += batch;
      elapsed = nowMs() - start;
    } while (elapsed < sampleMs);
    results.push((count * 1000) / elapsed);
  }
  return results;
}

/**
 * Milliseconds of one run of a whole task, per sample. Warm-up repeats the task for `warmupMs`
 * (at least once): one run left the first samples of a short task in code V8 had not yet
 * optimized (churn at 10,000: 3-8 ms cold, 1-1.3 ms warm, in one process). When the process
 * has `gc` (--expose-gc), a full collection before each sample keeps the garbage of the runs
 * before it out of its time.
 */
export function timeRuns(task, { samples, warmupMs = 0 }) {
  const warmupEnd = nowMs() + warmupMs;
  do task();
  while (nowMs() < warmupEnd);
  const results = [];
  for (let s = 0; s < samples; s++) {
    globalThis.gc?.();
    const start = nowMs();
    task();
    results.push(nowMs() - start);
  }
  return results;
}
