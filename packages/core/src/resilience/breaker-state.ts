/**
 * A circuit breaker's state as a discriminated union, its events, and the JSON form
 * that `toJSON()` writes and the `initialState` option reads back.
 */

import { isRecord } from './strategy.js';

/**
 * Where the breaker is. Times are readings of the breaker's clock (epoch ms by default).
 * - `closed`: calls flow; the strategy watches them.
 * - `open`: calls are rejected until `until` (Infinity while isolated by hand).
 * - `half-open`: a few probe calls decide between closing and opening again.
 * `attempt` counts failed probe rounds since the breaker last closed; it drives the backoff.
 */
export type BreakerState =
  | { readonly kind: 'closed'; readonly since: number }
  | {
      readonly kind: 'open';
      readonly since: number;
      readonly until: number;
      readonly attempt: number;
      readonly isolated: boolean;
    }
  | { readonly kind: 'half-open'; readonly since: number; readonly attempt: number };

export type BreakerStateKind = BreakerState['kind'];

/** Whether a transition was decided here or applied from another instance (see the Redis bus). */
export type TransitionOrigin = 'local' | 'remote';

export interface BreakerOpenEvent {
  readonly name: string;
  readonly origin: TransitionOrigin;
  /**
   * - `threshold`: the strategy saw too many failed or slow calls;
   * - `probe-failed`: a half-open probe round failed;
   * - `probe-stalled`: probes were admitted but never reported back in time;
   * - `isolated`: held open by hand (`isolate()`), here or on another instance;
   * - `remote`: another instance's breaker opened.
   */
  readonly reason: 'threshold' | 'probe-failed' | 'probe-stalled' | 'isolated' | 'remote';
  readonly attempt: number;
  readonly at: number;
  /** When it turns half-open; Infinity while isolated. */
  readonly until: number;
}

export interface BreakerHalfOpenEvent {
  readonly name: string;
  readonly attempt: number;
  readonly at: number;
}

export interface BreakerCloseEvent {
  readonly name: string;
  readonly origin: TransitionOrigin;
  /** `probes-succeeded`: enough probes succeeded; `reset`: `reset()` here or elsewhere; `remote`: another instance recovered. */
  readonly reason: 'probes-succeeded' | 'reset' | 'remote';
  readonly at: number;
}

export interface BreakerEvents {
  readonly open: BreakerOpenEvent;
  readonly 'half-open': BreakerHalfOpenEvent;
  readonly close: BreakerCloseEvent;
}

/** The JSON form of a breaker: plain data, safe to store and to restore in another process. */
export interface BreakerSnapshot {
  readonly version: 1;
  /** `until` is null while isolated (JSON has no Infinity). */
  readonly state:
    | { readonly kind: 'closed'; readonly since: number }
    | {
        readonly kind: 'open';
        readonly since: number;
        readonly until: number | null;
        readonly attempt: number;
        readonly isolated: boolean;
      }
    | { readonly kind: 'half-open'; readonly since: number; readonly attempt: number };
  /** The strategy's own `toJSON()`. */
  readonly strategy: unknown;
}

export function snapshotOf(state: BreakerState, strategy: unknown): BreakerSnapshot {
  if (state.kind !== 'open') return { version: 1, state: { ...state }, strategy };
  return { version: 1, state: { ...state, until: Number.isFinite(state.until) ? state.until : null }, strategy };
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isAttempt = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** Reads a snapshot's state back; undefined when it is not one this version wrote. */
export function stateFromSnapshot(snapshot: unknown): BreakerState | undefined {
  if (!isRecord(snapshot) || snapshot['version'] !== 1 || !isRecord(snapshot['state'])) return undefined;
  const state = snapshot['state'];
  const since = state['since'];
  if (!isTime(since)) return undefined;
  switch (state['kind']) {
    case 'closed':
      return { kind: 'closed', since };
    case 'half-open':
      return isAttempt(state['attempt']) ? { kind: 'half-open', since, attempt: state['attempt'] } : undefined;
    case 'open': {
      const { until, attempt, isolated } = state;
      if (!isAttempt(attempt) || typeof isolated !== 'boolean') return undefined;
      if (isolated && until === null) return { kind: 'open', since, until: Number.POSITIVE_INFINITY, attempt, isolated };
      if (!isolated && isTime(until)) return { kind: 'open', since, until, attempt, isolated };
      return undefined;
    }
    default:
      return undefined;
  }
}
