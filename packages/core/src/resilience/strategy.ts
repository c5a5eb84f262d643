/**
 * The pluggable part of a circuit breaker: what decides, while it is closed, that a
 * provider has failed often enough to open. Strategies see only counted calls (the
 * breaker's failure filter has already dropped ignored errors) and never allocate per call.
 */

import type { OptionIssues } from './options.js';

export interface BreakerStrategy {
  /** Whether `record` needs a real `now`; when false the breaker skips reading its clock. */
  readonly usesClock: boolean;
  /**
   * Records one call made while the breaker was closed and says whether the breaker
   * should open now. `slow` is true when the call took at least the breaker's `slowCallMs`.
   */
  record(failed: boolean, slow: boolean, now: number): boolean;
  /** Forgets every recorded call (the breaker calls this whenever it closes). */
  reset(): void;
  /** JSON-safe snapshot of what has been recorded, for the breaker's `toJSON()`. */
  toJSON(): unknown;
  /** Restores a `toJSON()` snapshot; returns false when it does not fit this strategy. */
  restore(snapshot: unknown): boolean;
}

export interface RateThresholdOptions {
  /** No decision until the window holds at least this many calls (default 10). */
  readonly minimumCalls?: number;
  /** Open when failed / calls reaches this fraction, 0..1 (default 0.5). */
  readonly failureRate?: number;
  /** Open when slow / calls reaches this fraction, 0..1 (default 1: every call slow). */
  readonly slowCallRate?: number;
}

/** The shared "enough calls, and too many failed or slow" rule of the window strategies. */
export class RateThresholds {
  readonly minimumCalls: number;
  private readonly failureRate: number;
  private readonly slowCallRate: number;

  constructor(
    { minimumCalls = 10, failureRate = 0.5, slowCallRate = 1 }: RateThresholdOptions,
    issues: OptionIssues,
  ) {
    issues.integer('minimumCalls', minimumCalls, 1);
    issues.number('failureRate', failureRate, Number.MIN_VALUE, 1);
    issues.number('slowCallRate', slowCallRate, Number.MIN_VALUE, 1);
    this.minimumCalls = minimumCalls;
    this.failureRate = failureRate;
    this.slowCallRate = slowCallRate;
  }

  exceeded(calls: number, failed: number, slow: number): boolean {
    // Division, not `failed >= rate * calls`: 0.1 * 30 is 3.0000000000000004 in floating point.
    return calls >= this.minimumCalls && (failed / calls >= this.failureRate || slow / calls >= this.slowCallRate);
  }
}

/** Outcome bits stored per call by the window strategies. */
export const FAILED = 1;
export const SLOW = 2;

export function outcomeBits(failed: boolean, slow: boolean): number {
  return (failed ? FAILED : 0) | (slow ? SLOW : 0);
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
