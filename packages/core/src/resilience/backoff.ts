/**
 * How long a breaker stays open: grows exponentially with each failed probe round so
 * a provider that stays down is asked less and less often, capped so recovery is
 * noticed in bounded time, and jittered so many instances do not probe in lockstep.
 */

import type { OptionIssues } from './options.js';

export interface BackoffOptions {
  /** Open period after the first break, in ms (default 5 000). */
  readonly initialMs?: number;
  /** Growth factor per failed probe round (default 2). */
  readonly multiplier?: number;
  /** Longest open period, in ms (default 60 000). */
  readonly maxMs?: number;
  /** Fraction 0..1 by which a period may be shortened at random (default 0.2). */
  readonly jitter?: number;
}

/** Computes open periods; `attempt` 0 is the first break after the breaker was closed. */
export class OpenBackoff {
  private readonly initialMs: number;
  private readonly multiplier: number;
  private readonly maxMs: number;
  private readonly jitter: number;

  constructor(
    { initialMs = 5_000, multiplier = 2, maxMs = 60_000, jitter = 0.2 }: BackoffOptions,
    private readonly random: () => number,
    issues: OptionIssues,
  ) {
    issues.number('backoff.initialMs', initialMs, 1);
    issues.number('backoff.multiplier', multiplier, 1);
    issues.number('backoff.maxMs', maxMs, 1);
    issues.number('backoff.jitter', jitter, 0, 1);
    issues.check(!(maxMs < initialMs), `backoff.maxMs: must be >= backoff.initialMs (${initialMs}), got ${maxMs}`);
    this.initialMs = initialMs;
    this.multiplier = multiplier;
    this.maxMs = maxMs;
    this.jitter = jitter;
  }

  /**
   * The open period for `attempt`: min(maxMs, initialMs × multiplier^attempt), then
   * shortened by up to `jitter` of itself. Jitter only ever shortens, so the cap holds.
   */
  periodMs(attempt: number): number {
    const uncapped = this.initialMs * this.multiplier ** attempt;
    const capped = Math.min(this.maxMs, uncapped);
    return capped * (1 - this.jitter * this.random());
  }
}
