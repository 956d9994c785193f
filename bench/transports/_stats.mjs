/** Percentiles, medians and spreads of the transport benchmark. */

import { quantile } from "../_stats.mjs";

export { quantile, summarize } from "../_stats.mjs";

/** p50 / p99 / p99.9 of latencies in µs pooled over samples, and the range of the samples' p50. */
export function latencySummary(samples) {
  const pooled = samples.flat().sort((a, b) => a - b);
  const p50s = samples.map((s) =>
    quantile(
      [...s].sort((a, b) => a - b),
      0.5,
    ),
  );
  return {
    p50: quantile(pooled, 0.5),
    p99: quantile(pooled, 0.99),
    p999: quantile(pooled, 0.999),
    max: pooled[pooled.length - 1],
    count: pooled.length,
    p50Min: Math.min(...p50s),
    p50Max: Math.max(...p50s),
  };
}

/** 123k, 1.2M */
export function formatRate(value) {
  if (!Number.isFinite(value)) return "–";
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e5 ? 0 : 1)}k`;
  return value.toFixed(0);
}

export function formatMicros(value) {
  if (!Number.isFinite(value)) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value.toFixed(0)} µs`;
}
