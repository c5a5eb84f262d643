/** Breaker strategy: failure and slow-call rates over the last N calls. */

import { OptionIssues } from './options.js';
import {
  FAILED,
  isRecord,
  outcomeBits,
  RateThresholds,
  SLOW,
  type BreakerStrategy,
  type RateThresholdOptions,
} from './strategy.js';

export interface CountWindowOptions extends RateThresholdOptions {
  /** How many of the most recent calls the window holds (default 100). `minimumCalls` defaults to min(10, size). */
  readonly size?: number;
}

/**
 * A ring buffer of outcome bits plus running totals: recording a call adds the new
 * outcome and subtracts the one it overwrites, so the cost is the same for a window
 * of ten calls or a million, and memory is fixed at `size` bytes.
 */
class CountWindow implements BreakerStrategy {
  readonly usesClock = false;
  private readonly outcomes: Uint8Array;
  private readonly thresholds: RateThresholds;
  private next = 0;
  private calls = 0;
  private failed = 0;
  private slow = 0;

  constructor({ size = 100, ...rates }: CountWindowOptions) {
    const issues = new OptionIssues('countWindow');
    issues.integer('size', size, 1, 10_000_000);
    // A small window cannot hold the default minimum of 10 calls; default to all of it instead.
    const minimumCalls = rates.minimumCalls ?? Math.min(10, Number.isInteger(size) && size > 0 ? size : 10);
    this.thresholds = new RateThresholds({ ...rates, minimumCalls }, issues);
    issues.check(
      !(this.thresholds.minimumCalls > size),
      `minimumCalls: must be <= size (${size}), got ${this.thresholds.minimumCalls}`,
    );
    issues.throwIfAny();
    this.outcomes = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): boolean {
    this.push(outcomeBits(failed, slow));
    return this.thresholds.exceeded(this.calls, this.failed, this.slow);
  }

  private push(bits: number): void {
    const size = this.outcomes.length;
    if (this.calls === size) {
      const evicted = this.outcomes[this.next] ?? 0;
      this.failed -= evicted & FAILED;
      this.slow -= (evicted & SLOW) >> 1;
    } else {
      this.calls++;
    }
    this.outcomes[this.next] = bits;
    this.failed += bits & FAILED;
    this.slow += (bits & SLOW) >> 1;
    this.next = this.next + 1 === size ? 0 : this.next + 1;
  }

  reset(): void {
    this.outcomes.fill(0);
    this.next = 0;
    this.calls = 0;
    this.failed = 0;
    this.slow = 0;
  }

  /** Oldest first, one digit (the outcome bits) per call. */
  toJSON(): unknown {
    const size = this.outcomes.length;
    const start = this.calls === size ? this.next : 0;
    let digits = '';
    for (let i = 0; i < this.calls; i++) digits += String(this.outcomes[(start + i) % size]);
    return { kind: 'count-window', size, outcomes: digits };
  }

  restore(snapshot: unknown): boolean {
    if (!isRecord(snapshot) || snapshot['kind'] !== 'count-window') return false;
    const digits = snapshot['outcomes'];
    if (snapshot['size'] !== this.outcomes.length || typeof digits !== 'string') return false;
    if (digits.length > this.outcomes.length || !/^[0-3]*$/.test(digits)) return false;
    this.reset();
    for (const digit of digits) this.push(Number(digit));
    return true;
  }
}

/**
 * Opens when, among the last `size` calls (and at least `minimumCalls` of them), the
 * share of failures reaches `failureRate` or the share of slow calls reaches `slowCallRate`.
 *
 * @example
 * const breaker = circuitBreaker({
 *   name: 'abuseipdb',
 *   slowCallMs: 800,
 *   strategy: countWindow({ size: 50, minimumCalls: 10, failureRate: 0.5, slowCallRate: 0.8 }),
 * });
 */
export function countWindow(options: CountWindowOptions = {}): BreakerStrategy {
  return new CountWindow(options);
}
