/**
 * Percentiles of a sample of latencies (or any numbers), for tables that show a
 * distribution rather than one average.
 */

/** Summary of a sample; every field is in the sample's unit. */
export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The nearest-rank percentile of an ascending array (`q` in 0..1).
 *
 * @example
 * percentile([1, 2, 3, 4], 0.5); // 2
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/**
 * Summarises a sample (it is not modified).
 *
 * @example
 * const { p50, p99, max } = distribution(latenciesMs);
 */
export function distribution(sample: readonly number[]): Distribution {
  const sorted = [...sample].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

/** Milliseconds with two decimals, for tables. */
export const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '–');
