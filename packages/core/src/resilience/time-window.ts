/** Breaker strategy: failure and slow-call rates over the last T milliseconds. */

import { OptionIssues } from './options.js';
import { isRecord, RateThresholds, type BreakerStrategy, type RateThresholdOptions } from './strategy.js';

export interface TimeWindowOptions extends RateThresholdOptions {
  /** Length of the window in ms (default 10 000). */
  readonly windowMs?: number;
  /** How many buckets the window is cut into (default 10); more buckets slide more smoothly. */
  readonly buckets?: number;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

/**
 * Counters per time bucket plus running totals. A call lands in the bucket of its
 * time; moving into a new bucket clears at most `buckets` expired ones, so a call
 * costs O(buckets) at worst and O(1) amortised, whatever the traffic, and memory is
 * fixed. The window covers the current bucket and the `buckets - 1` before it.
 */
class TimeWindow implements BreakerStrategy {
  readonly usesClock = true;
  private readonly bucketMs: number;
  private readonly thresholds: RateThresholds;
  private readonly callsPerBucket: Uint32Array;
  private readonly failedPerBucket: Uint32Array;
  private readonly slowPerBucket: Uint32Array;
  /** Index in time (now / bucketMs, floored) of the newest bucket; -Infinity when empty. */
  private newestEpoch = Number.NEGATIVE_INFINITY;
  private calls = 0;
  private failed = 0;
  private slow = 0;

  constructor({ windowMs = 10_000, buckets = 10, ...rates }: TimeWindowOptions) {
    const issues = new OptionIssues('timeWindow');
    issues.number('windowMs', windowMs, 1);
    issues.integer('buckets', buckets, 1, 10_000);
    this.thresholds = new RateThresholds(rates, issues);
    issues.throwIfAny();
    this.bucketMs = windowMs / buckets;
    this.callsPerBucket = new Uint32Array(buckets);
    this.failedPerBucket = new Uint32Array(buckets);
    this.slowPerBucket = new Uint32Array(buckets);
  }

  record(failed: boolean, slow: boolean, now: number): boolean {
    const epoch = Math.floor(now / this.bucketMs);
    // A clock that stepped back files the call into the newest bucket rather than rewriting history.
    if (epoch > this.newestEpoch) this.advanceTo(epoch);
    this.add(this.slotOf(this.newestEpoch), 1, failed ? 1 : 0, slow ? 1 : 0);
    return this.thresholds.exceeded(this.calls, this.failed, this.slow);
  }

  private slotOf(epoch: number): number {
    const buckets = this.callsPerBucket.length;
    return ((epoch % buckets) + buckets) % buckets;
  }

  private advanceTo(epoch: number): void {
    const expired = Math.min(epoch - this.newestEpoch, this.callsPerBucket.length);
    for (let i = 1; i <= expired; i++) this.clear(this.slotOf(epoch - expired + i));
    this.newestEpoch = epoch;
  }

  private clear(slot: number): void {
    this.calls -= this.callsPerBucket[slot] ?? 0;
    this.failed -= this.failedPerBucket[slot] ?? 0;
    this.slow -= this.slowPerBucket[slot] ?? 0;
    this.callsPerBucket[slot] = 0;
    this.failedPerBucket[slot] = 0;
    this.slowPerBucket[slot] = 0;
  }

  private add(slot: number, calls: number, failed: number, slow: number): void {
    this.callsPerBucket[slot] = (this.callsPerBucket[slot] ?? 0) + calls;
    this.failedPerBucket[slot] = (this.failedPerBucket[slot] ?? 0) + failed;
    this.slowPerBucket[slot] = (this.slowPerBucket[slot] ?? 0) + slow;
    this.calls += calls;
    this.failed += failed;
    this.slow += slow;
  }

  reset(): void {
    this.callsPerBucket.fill(0);
    this.failedPerBucket.fill(0);
    this.slowPerBucket.fill(0);
    this.newestEpoch = Number.NEGATIVE_INFINITY;
    this.calls = 0;
    this.failed = 0;
    this.slow = 0;
  }

  /** Buckets oldest first as [epoch, calls, failed, slow]; empty buckets are left out. */
  toJSON(): unknown {
    const buckets: [number, number, number, number][] = [];
    const count = this.callsPerBucket.length;
    for (let age = count - 1; age >= 0 && Number.isFinite(this.newestEpoch); age--) {
      const epoch = this.newestEpoch - age;
      const slot = this.slotOf(epoch);
      const calls = this.callsPerBucket[slot] ?? 0;
      if (calls > 0) buckets.push([epoch, calls, this.failedPerBucket[slot] ?? 0, this.slowPerBucket[slot] ?? 0]);
    }
    return { kind: 'time-window', bucketMs: this.bucketMs, buckets };
  }

  restore(snapshot: unknown): boolean {
    if (!isRecord(snapshot) || snapshot['kind'] !== 'time-window' || snapshot['bucketMs'] !== this.bucketMs) {
      return false;
    }
    const buckets = snapshot['buckets'];
    if (!Array.isArray(buckets)) return false;
    const rows: [number, number, number, number][] = [];
    let previousEpoch = Number.NEGATIVE_INFINITY;
    for (const row of buckets as unknown[]) {
      if (!Array.isArray(row) || row.length !== 4) return false;
      const [epoch, calls, failed, slow] = row as unknown[];
      if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch <= previousEpoch) return false;
      if (!isCount(calls) || !isCount(failed) || !isCount(slow) || failed > calls || slow > calls) return false;
      rows.push([epoch, calls, failed, slow]);
      previousEpoch = epoch;
    }
    this.reset();
    // Oldest first: advancing to each row's epoch drops rows that fall out of the window.
    for (const [epoch, calls, failed, slow] of rows) {
      this.advanceTo(epoch);
      this.add(this.slotOf(epoch), calls, failed, slow);
    }
    return true;
  }
}

/**
 * Opens when, among the calls of the last `windowMs` (at least `minimumCalls` of them),
 * the share of failures reaches `failureRate` or the share of slow calls reaches `slowCallRate`.
 * The window slides one bucket (`windowMs / buckets`) at a time.
 *
 * @example
 * const breaker = circuitBreaker({
 *   name: 'stopforumspam',
 *   strategy: timeWindow({ windowMs: 30_000, buckets: 10, minimumCalls: 20, failureRate: 0.5 }),
 * });
 */
export function timeWindow(options: TimeWindowOptions = {}): BreakerStrategy {
  return new TimeWindow(options);
}
