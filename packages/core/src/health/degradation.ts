/**
 * Decides when a provider becomes degraded or recovers, from the failure share of its
 * recent calls. Each transition forgets the calls before it, so the failures that made
 * a provider degraded cannot make it degraded again right after it recovered.
 */
import { ConfigurationError } from '../errors.js';

export interface DegradationOptions {
  /** Only calls within this many ms count (default 60 000). */
  readonly windowMs?: number;
  /** Calls needed in the window before a share is judged (default 10). */
  readonly minCalls?: number;
  /** Failure share (errors and timeouts) at or above which the provider is degraded (default 0.25). */
  readonly failureRate?: number;
  /** Failure share at or below which a degraded provider has recovered (default 0.05). */
  readonly recoveryRate?: number;
  /** Successes in a row that also count as recovery, for quiet sites (default 5). */
  readonly recoveryCalls?: number;
}

export const DEGRADATION_DEFAULTS = {
  windowMs: 60_000,
  minCalls: 10,
  failureRate: 0.25,
  recoveryRate: 0.05,
  recoveryCalls: 5,
} as const satisfies Required<DegradationOptions>;

export type ResolvedDegradation = Required<DegradationOptions>;

/** Fills in defaults; throws ConfigurationError listing every wrong key. */
export function resolveDegradation(options: DegradationOptions = {}): ResolvedDegradation {
  const resolved = { ...DEGRADATION_DEFAULTS, ...options };
  const issues = degradationIssues(resolved);
  if (issues.length > 0) throw new ConfigurationError(issues);
  return resolved;
}

/** What is wrong with resolved options, one line per key. */
export function degradationIssues(resolved: ResolvedDegradation): string[] {
  const issues: string[] = [];
  const rate = (key: 'failureRate' | 'recoveryRate') => {
    if (!(resolved[key] >= 0 && resolved[key] <= 1)) issues.push(`health.degradation.${key}: expected 0..1, got ${resolved[key]}`);
  };
  const count = (key: 'minCalls' | 'recoveryCalls') => {
    if (!(Number.isInteger(resolved[key]) && resolved[key] >= 1)) {
      issues.push(`health.degradation.${key}: expected an integer ≥ 1, got ${resolved[key]}`);
    }
  };
  rate('failureRate');
  rate('recoveryRate');
  count('minCalls');
  count('recoveryCalls');
  if (!(resolved.windowMs > 0)) issues.push(`health.degradation.windowMs: expected a number > 0, got ${resolved.windowMs}`);
  if (resolved.recoveryRate >= resolved.failureRate) {
    issues.push('health.degradation.recoveryRate: expected less than failureRate, so the state cannot flap between calls');
  }
  return issues;
}

/** What one call changed, with the share of failures that decided it. */
export interface DegradationChange {
  readonly state: 'degraded' | 'recovered';
  readonly failureRate: number;
  readonly calls: number;
}

/**
 * The last calls (at most 2 × minCalls, at least 20) with their times, in a ring kept in
 * time order, with running totals: recording and judging are O(1) amortised, whatever
 * the traffic.
 *
 * @example
 * const detector = new DegradationDetector(resolveDegradation());
 * const change = detector.record(Date.now(), true); // { state: 'degraded', ... } once enough calls fail
 */
export class DegradationDetector {
  private readonly times: Float64Array;
  private readonly failed: Uint8Array;
  /** Index of the oldest call kept, and how many are kept. */
  private oldest = 0;
  private size = 0;
  private failures = 0;
  private successesInARow = 0;
  degraded = false;

  constructor(private readonly options: ResolvedDegradation) {
    const capacity = Math.max(20, 2 * options.minCalls);
    this.times = new Float64Array(capacity);
    this.failed = new Uint8Array(capacity);
  }

  record(at: number, failed: boolean): DegradationChange | undefined {
    const capacity = this.times.length;
    // Calls leave the ring when they age out of the window or when it is full.
    while (this.size > 0 && (this.size === capacity || this.times[this.oldest]! < at - this.options.windowMs)) {
      this.failures -= this.failed[this.oldest]!;
      this.oldest = (this.oldest + 1) % capacity;
      this.size--;
    }
    const slot = (this.oldest + this.size) % capacity;
    this.times[slot] = at;
    this.failed[slot] = failed ? 1 : 0;
    this.size++;
    this.failures += failed ? 1 : 0;
    this.successesInARow = failed ? 0 : this.successesInARow + 1;

    const failureRate = this.failures / this.size;
    const judged = this.size >= this.options.minCalls;
    if (!this.degraded && judged && failureRate >= this.options.failureRate) {
      return this.change('degraded', failureRate);
    }
    if (this.degraded && ((judged && failureRate <= this.options.recoveryRate) || this.successesInARow >= this.options.recoveryCalls)) {
      return this.change('recovered', failureRate);
    }
    return undefined;
  }

  private change(state: DegradationChange['state'], failureRate: number): DegradationChange {
    const calls = this.size;
    this.degraded = state === 'degraded';
    // The calls that decided this state do not count towards the next one.
    this.size = 0;
    this.failures = 0;
    this.successesInARow = 0;
    return { state, failureRate, calls };
  }
}
