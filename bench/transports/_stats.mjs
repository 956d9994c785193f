/** Percentiles, medians and spreads of the transport benchmark. */

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** { median, min, max, spread (interquartile range in % of the median), n } of samples. */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const spread = median === 0 ? 0 : ((quantile(sorted, 0.75) - quantile(sorted, 0.25)) / median) * 100;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], spread, n: sorted.length };
}

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
