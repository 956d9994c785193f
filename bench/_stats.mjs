/** Median and spread of samples. */

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** { median, p25, p75, min, max, spread }: spread is the interquartile range in % of the median. */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const p25 = quantile(sorted, 0.25);
  const p75 = quantile(sorted, 0.75);
  return {
    median,
    p25,
    p75,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    spread: median === 0 ? 0 : ((p75 - p25) / median) * 100,
    n: sorted.length,
  };
}

/** 12.3M, 456k, 789 */
export function formatCount(value) {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e8 ? 0 : 1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e5 ? 0 : 1)}k`;
  return value.toFixed(value >= 100 ? 0 : 1);
}
