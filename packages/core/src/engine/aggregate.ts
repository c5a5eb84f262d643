import { DECISIONS, USABLE_STATUSES } from '../contracts.js';
import type { Decision, ResolvedPolicy, Signal } from '../contracts.js';

/** Scores at or above which each decision applies; below `review` the decision is `allow`. */
export interface Thresholds {
  readonly review: number;
  readonly challenge: number;
  readonly block: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { review: 0.3, challenge: 0.6, block: 0.85 };

/** The result of combining signals, before timing is added. */
export interface Aggregate {
  readonly decision: Decision;
  readonly score: number;
  readonly degraded: boolean;
  readonly reasons: string[];
}

/** The stricter of two decisions. */
export function stricter(a: Decision, b: Decision): Decision {
  return DECISIONS.indexOf(a) >= DECISIONS.indexOf(b) ? a : b;
}

export function decide(score: number, thresholds: Thresholds): Decision {
  if (score >= thresholds.block) return 'block';
  if (score >= thresholds.challenge) return 'challenge';
  if (score >= thresholds.review) return 'review';
  return 'allow';
}

function isUsable(signal: Signal, policy: ResolvedPolicy): boolean {
  if (!USABLE_STATUSES.has(signal.status)) return false;
  return signal.status !== 'stale' || policy.acceptStale;
}

/**
 * Combines provider signals into one score and decision.
 *
 * Each usable signal is treated as independent evidence of abuse with strength
 * `weight × score`, combined as a noisy-OR: `1 − Π(1 − wᵢ·sᵢ)`. One strong signal is
 * enough to block, weak signals add up, and a clean answer never lowers another
 * provider's finding (an average would let clean answers dilute a blocklist hit).
 *
 * A required provider without a usable answer makes the route's `onUnavailable` the
 * least strict possible decision; any selected provider without one marks the verdict
 * `degraded`.
 */
export function aggregate(
  signals: Readonly<Record<string, Signal>>,
  weights: ReadonlyMap<string, number>,
  policy: ResolvedPolicy,
  thresholds: Thresholds,
): Aggregate {
  let clean = 1;
  let degraded = false;
  const reasons: string[] = [];
  for (const name in signals) {
    const signal = signals[name] as Signal;
    if (isUsable(signal, policy)) {
      const score = signal.score ?? 0;
      clean *= 1 - (weights.get(name) ?? 1) * score;
      if (score > 0) reasons.push(...signal.reasons);
    } else if (signal.status !== 'skipped') {
      degraded = true;
      reasons.push(`${name} unavailable (${signal.status})`);
    }
  }
  const score = Math.min(1, Math.max(0, 1 - clean));
  let decision = decide(score, thresholds);
  for (const name of policy.require) {
    const signal = signals[name];
    if (signal !== undefined && isUsable(signal, policy)) continue;
    degraded = true;
    reasons.push(`required provider ${name} has no usable answer: on unavailable, ${policy.onUnavailable}`);
    decision = stricter(decision, policy.onUnavailable);
  }
  return { decision, score, degraded, reasons };
}
