/**
 * Turning what an upstream said about its limits into a pause: a stretch of time in
 * which the provider is not called at all.
 */

import type { UpstreamLimits } from '../contracts.js';
import { isProviderResponseError } from '../errors.js';

/**
 * Why calls are paused: the upstream asked us to wait (`retry-after`), said its window
 * is used up (`upstream-exhausted`), answered 429 (`rate-limited`), or said the account's
 * quota is gone (`quota-exceeded`, e.g. OpenAI `insufficient_quota`).
 *
 * @example
 * await quota.pause(60_000, 'quota-exceeded');
 */
export type PauseReason = 'retry-after' | 'upstream-exhausted' | 'rate-limited' | 'quota-exceeded';

export const PAUSE_REASONS: readonly PauseReason[] = ['retry-after', 'upstream-exhausted', 'rate-limited', 'quota-exceeded'];

export interface PauseRequest {
  readonly ms: number;
  readonly reason: PauseReason;
}

export interface ErrorPausePolicy {
  /** For a 429 that came without Retry-After. */
  readonly rateLimitedPauseMs: number;
  /** For a quota-exceeded answer without Retry-After: until the period resets, or a long pause. */
  readonly quotaExceededPauseMs: () => number;
}

/**
 * The pause an upstream's limit facts call for: its Retry-After, or, when it says no
 * calls are left, until its window resets. Undefined when calls may go on.
 *
 * @example
 * pauseFromUpstream({ remaining: 0, resetAtMs: Date.now() + 30_000 }, Date.now()); // { ms: 30000, reason: 'upstream-exhausted' }
 */
export function pauseFromUpstream(upstream: UpstreamLimits, nowMs: number): PauseRequest | undefined {
  const retryAfter = upstream.retryAfterMs;
  if (retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > 0) {
    return { ms: Math.ceil(retryAfter), reason: 'retry-after' };
  }
  const { remaining, resetAtMs } = upstream;
  if (remaining !== undefined && remaining <= 0 && resetAtMs !== undefined && Number.isFinite(resetAtMs)) {
    const ms = Math.ceil(resetAtMs - nowMs);
    if (ms > 0) return { ms, reason: 'upstream-exhausted' };
  }
  return undefined;
}

/**
 * The pause a failed call calls for: only ProviderResponseError of kind `rate-limited`
 * or `quota-exceeded` pauses; every other failure is the breaker's business.
 *
 * @example
 * pauseFromError(new ProviderResponseError('rate-limited', '429', { retryAfterMs: 2000 }), policy); // { ms: 2000, reason: 'rate-limited' }
 */
export function pauseFromError(error: unknown, policy: ErrorPausePolicy): PauseRequest | undefined {
  if (!isProviderResponseError(error)) return undefined;
  const stated = error.retryAfterMs !== undefined && error.retryAfterMs > 0 ? Math.ceil(error.retryAfterMs) : undefined;
  if (error.kind === 'rate-limited') return { ms: stated ?? policy.rateLimitedPauseMs, reason: 'rate-limited' };
  if (error.kind === 'quota-exceeded') return { ms: stated ?? policy.quotaExceededPauseMs(), reason: 'quota-exceeded' };
  return undefined;
}

/** This process's knowledge of the current pause. */
export class PauseState {
  #untilMs = 0;
  #reason: PauseReason | undefined;

  /** Extends the pause to `untilMs`; a shorter pause never cuts a longer one short. Returns whether it grew. */
  extend(untilMs: number, reason: PauseReason): boolean {
    if (untilMs <= this.#untilMs) return false;
    this.#untilMs = untilMs;
    this.#reason = reason;
    return true;
  }

  /** Milliseconds left at `nowMs`, 0 when not paused. */
  remaining(nowMs: number): number {
    return Math.max(0, this.#untilMs - nowMs);
  }

  /** The pause in force at `nowMs`, if any. */
  at(nowMs: number): { untilMs: number; reason: PauseReason } | undefined {
    if (this.#reason === undefined || this.#untilMs <= nowMs) return undefined;
    return { untilMs: this.#untilMs, reason: this.#reason };
  }
}

export function isPauseReason(value: unknown): value is PauseReason {
  return typeof value === 'string' && (PAUSE_REASONS as readonly string[]).includes(value);
}
