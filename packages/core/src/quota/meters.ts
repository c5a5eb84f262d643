/**
 * Meters: the per-day and per-month counters behind quotas and spend caps, and where
 * each one's count lives at a given instant (its bucket keys).
 */

import type { Calendar, CalendarPeriod } from './calendar.js';

export type MeterPeriod = 'daily' | 'monthly';
/** `calls` counts calls; `spend` counts cost in millionths of the currency unit, so sums stay exact. */
export type MeterUnit = 'calls' | 'spend';

/** Cost is metered in millionths: integer arithmetic in Lua and JavaScript alike. */
export const SPEND_SCALE = 1_000_000;

export interface MeterSpec {
  readonly period: MeterPeriod;
  readonly unit: MeterUnit;
  /** In the meter's integer unit; Infinity when the meter only counts (spend without a cap). */
  readonly limit: number;
  /** Units kept for high-value calls; normal calls may use `limit - reserve`. */
  readonly reserve: number;
  /** A rolling window (the last 24 h / 30 days) instead of the calendar day / month. */
  readonly rolling: boolean;
}

/** Where a meter counts at one instant. */
export interface MeterPlan {
  /** Bucket keys (relative to the provider's namespace) whose sum is the usage; the first is written. */
  readonly keys: readonly string[];
  /** When usage next goes down: the calendar window's end, or the next rolling bucket's start. */
  readonly resetAtMs: number;
  /** How long the written bucket must outlive `now`. */
  readonly ttlMs: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Extra lifetime for a bucket so instances with slightly skewed clocks still find it. */
const BUCKET_GRACE_MS = HOUR_MS;

const CALENDAR_PERIOD: Record<MeterPeriod, CalendarPeriod> = { daily: 'day', monthly: 'month' };
const ROLLING: Record<MeterPeriod, { bucketMs: number; buckets: number }> = {
  daily: { bucketMs: HOUR_MS, buckets: 24 },
  monthly: { bucketMs: DAY_MS, buckets: 30 },
};

/** One quota or spend counter. */
export class Meter {
  readonly spec: MeterSpec;
  readonly #calendar: Calendar;

  constructor(spec: MeterSpec, calendar: Calendar) {
    this.spec = spec;
    this.#calendar = calendar;
  }

  /** A short stable name for messages, events and snapshots, e.g. `daily calls`. */
  get label(): string {
    return `${this.spec.period} ${this.spec.unit}`;
  }

  /** The most this call may bring usage to. */
  limitFor(highValue: boolean): number {
    return highValue ? this.spec.limit : this.spec.limit - this.spec.reserve;
  }

  planAt(nowMs: number): MeterPlan {
    const { unit, period } = this.spec;
    if (!this.spec.rolling) {
      const window = this.#calendar.windowAt(CALENDAR_PERIOD[period], nowMs);
      return {
        keys: [`${unit}:${CALENDAR_PERIOD[period]}:${window.id}`],
        resetAtMs: window.endMs,
        ttlMs: window.endMs - nowMs + BUCKET_GRACE_MS,
      };
    }
    // The current partial bucket plus `buckets` whole ones cover at least the whole rolling
    // window, so the sum can only over-count: the quota errs towards fewer calls.
    const { bucketMs, buckets } = ROLLING[period];
    const current = Math.floor(nowMs / bucketMs);
    const keys: string[] = [];
    for (let index = current; index >= current - buckets; index -= 1) keys.push(`${unit}:${period}-rolling:${index}`);
    return { keys, resetAtMs: (current + 1) * bucketMs, ttlMs: (buckets + 1) * bucketMs + BUCKET_GRACE_MS };
  }
}
