/** Breaker strategy: open after N failures in a row. */

import { OptionIssues } from './options.js';
import { isRecord, type BreakerStrategy } from './strategy.js';

export interface ConsecutiveFailuresOptions {
  /** Failures in a row that open the breaker (default 5). */
  readonly threshold?: number;
}

class ConsecutiveFailures implements BreakerStrategy {
  readonly usesClock = false;
  private readonly threshold: number;
  private failuresInARow = 0;

  constructor({ threshold = 5 }: ConsecutiveFailuresOptions) {
    const issues = new OptionIssues('consecutiveFailures');
    issues.integer('threshold', threshold, 1);
    issues.throwIfAny();
    this.threshold = threshold;
  }

  record(failed: boolean, slow: boolean): boolean {
    // A slow success counts against the provider like a failure.
    if (!failed && !slow) {
      this.failuresInARow = 0;
      return false;
    }
    this.failuresInARow++;
    return this.failuresInARow >= this.threshold;
  }

  reset(): void {
    this.failuresInARow = 0;
  }

  toJSON(): unknown {
    return { kind: 'consecutive-failures', failuresInARow: this.failuresInARow };
  }

  restore(snapshot: unknown): boolean {
    if (!isRecord(snapshot) || snapshot['kind'] !== 'consecutive-failures') return false;
    const count = snapshot['failuresInARow'];
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return false;
    this.failuresInARow = count;
    return true;
  }
}

/**
 * Opens after `threshold` failed (or slow) calls in a row; any fast success resets the count.
 * Each breaker needs its own strategy instance: the instance holds the count.
 *
 * @example
 * const breaker = circuitBreaker({ name: 'dnsbl', strategy: consecutiveFailures({ threshold: 3 }) });
 */
export function consecutiveFailures(options: ConsecutiveFailuresOptions = {}): BreakerStrategy {
  return new ConsecutiveFailures(options);
}
