/**
 * A latency histogram with logarithmic buckets: fixed memory whatever the number of
 * recordings, O(1) per recording, and every quantile within a documented relative
 * error (the DDSketch bucketing, with a fixed range instead of a growing one).
 */
import { ConfigurationError } from '../errors.js';

export interface LogHistogramOptions {
  /**
   * Largest relative error of a reported quantile, 0 < e < 1 (default 0.02, i.e. 2 %):
   * a reported p99 of 100 ms means the true p99 lies within 98..102 ms.
   */
  readonly relativeError?: number;
  /** Values at or below this are counted as this value (default 0.01 ms). */
  readonly minValue?: number;
  /** Values above this are counted as this value (default 120 000 ms). */
  readonly maxValue?: number;
}

export const HISTOGRAM_DEFAULTS = { relativeError: 0.02, minValue: 0.01, maxValue: 120_000 } as const;

/** The bucket layout, shared by every histogram built with the same options. */
export class BucketLayout {
  readonly relativeError: number;
  readonly minValue: number;
  readonly maxValue: number;
  /**
   * Bucket 0 holds values ≤ minValue, the last one values > maxValue; bucket i between
   * them holds (minValue·γ^(i−1), minValue·γ^i].
   */
  readonly size: number;
  private readonly logGamma: number;
  private readonly gamma: number;
  private readonly regular: number;

  constructor(options: LogHistogramOptions = {}) {
    const { relativeError, minValue, maxValue } = { ...HISTOGRAM_DEFAULTS, ...options };
    const issues: string[] = [];
    if (!(relativeError > 0 && relativeError < 1)) issues.push(`histogram.relativeError: expected 0 < e < 1, got ${relativeError}`);
    if (!(minValue > 0 && Number.isFinite(minValue))) issues.push(`histogram.minValue: expected a number > 0, got ${minValue}`);
    if (!(maxValue > minValue && Number.isFinite(maxValue))) issues.push(`histogram.maxValue: expected a number > minValue, got ${maxValue}`);
    if (issues.length > 0) throw new ConfigurationError(issues);
    this.relativeError = relativeError;
    this.minValue = minValue;
    this.maxValue = maxValue;
    this.gamma = (1 + relativeError) / (1 - relativeError);
    this.logGamma = Math.log(this.gamma);
    this.regular = Math.ceil(Math.log(maxValue / minValue) / this.logGamma);
    this.size = this.regular + 2;
  }

  indexOf(value: number): number {
    if (!(value > this.minValue)) return 0; // also NaN
    if (value > this.maxValue) return this.regular + 1;
    return Math.min(this.regular, Math.max(1, Math.ceil(Math.log(value / this.minValue) / this.logGamma)));
  }

  /** The value reported for a bucket: within `relativeError` of every value the bucket holds. */
  valueOf(index: number): number {
    if (index <= 0) return this.minValue;
    if (index > this.regular) return this.maxValue;
    return (this.minValue * 2 * this.gamma ** index) / (this.gamma + 1);
  }
}

/**
 * Counts of values per logarithmic bucket.
 *
 * @example
 * const latency = new LogHistogram();
 * latency.record(12.5);
 * latency.quantile(0.99); // ≈ 12.5, within 2 %
 */
export class LogHistogram {
  readonly layout: BucketLayout;
  private readonly counts: Float64Array;
  private total = 0;

  constructor(layout: BucketLayout | LogHistogramOptions = {}) {
    this.layout = layout instanceof BucketLayout ? layout : new BucketLayout(layout);
    // Float64 counts stay exact up to 2^53 recordings, far past any process lifetime.
    this.counts = new Float64Array(this.layout.size);
  }

  /** How many values were recorded. */
  get count(): number {
    return this.total;
  }

  /** Bytes held by the counts; fixed at construction. */
  get byteLength(): number {
    return this.counts.byteLength;
  }

  record(value: number): void {
    this.counts[this.layout.indexOf(value)]! += 1;
    this.total += 1;
  }

  /** Adds another histogram's counts (same layout) to this one. */
  add(other: LogHistogram): void {
    if (other.layout !== this.layout) throw new RangeError('histograms with different layouts cannot be added');
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
  }

  clear(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1): the value of rank ⌊q·(n−1)⌋ in sorted order, within
   * the layout's relative error for values inside [minValue, maxValue]. Undefined when empty.
   */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.total - 1));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen > rank) return this.layout.valueOf(i);
    }
    return this.layout.maxValue;
  }
}
