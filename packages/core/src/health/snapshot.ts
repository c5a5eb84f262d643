/**
 * The health snapshot's shape and the documented rules that turn its parts into
 * `ok | degraded | down`. Pure functions: the monitor gathers, these judge.
 */
import type { CacheHealth, CacheStats } from '../cache/index.js';
import type { PauseReason, QuotaMode, QuotaSnapshot, QuotaWindowSnapshot } from '../quota/index.js';
import type { BreakerState } from '../resilience/breaker-state.js';
import type { HealthEvent } from './events.js';
import type { LastError, LatencySummary, WindowCounts, WindowName } from './provider-stats.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface BreakerHealth {
  readonly state: BreakerState['kind'];
  /** When it entered this state (epoch ms, the engine's clock). */
  readonly sinceMs: number;
  /** While open: when it may probe again; null when isolated by hand or not open. */
  readonly untilMs: number | null;
  readonly isolated: boolean;
}

export interface QuotaWindowHealth extends QuotaWindowSnapshot {
  /** remaining / limit. */
  readonly remainingShare: number;
}

export interface QuotaHealth {
  readonly mode: QuotaMode;
  readonly windows: readonly QuotaWindowHealth[];
  /** Spent in the current day and month, in the unit of `costPerCall`. */
  readonly spend: QuotaSnapshot['spend'];
  readonly paused: { readonly untilMs: number; readonly reason: PauseReason } | null;
}

export interface ProviderHealth {
  readonly name: string;
  /** A local provider (honeypot, time trap) has no breaker, quota or cache. */
  readonly local: boolean;
  readonly weight: number;
  readonly status: HealthStatus;
  /** Why the status is not `ok`. */
  readonly reasons: readonly string[];
  readonly degraded: boolean;
  readonly breaker: BreakerHealth | null;
  readonly calls: Readonly<Record<WindowName, WindowCounts>>;
  readonly latencyMs: Readonly<Record<WindowName, LatencySummary>>;
  /** null without a quota, or when its storage could not be read in time. */
  readonly quota: QuotaHealth | null;
  readonly lastError: LastError | null;
}

export interface CacheHealthSnapshot extends CacheHealth {
  /** Hit ratios since start: L1 of all lookups, L2 of L1 misses, overall of all lookups (null before any). */
  readonly hitRatio: { readonly l1: number | null; readonly l2: number | null; readonly overall: number | null };
  readonly stats: CacheStats;
}

/**
 * Everything a status page, a readiness probe or an on-call engineer needs, as plain JSON.
 *
 * @example
 * const health = await monitor.snapshot();
 * if (health.status !== 'ok') console.warn(health.reasons.join('; '));
 */
export interface HealthSnapshot {
  readonly status: HealthStatus;
  /** Why the status is not `ok`. */
  readonly reasons: readonly string[];
  /** When it was taken (epoch ms). */
  readonly at: number;
  readonly providers: readonly ProviderHealth[];
  /** null when the engine has no cache (only local providers, or `cache: false`). */
  readonly cache: CacheHealthSnapshot | null;
  /** The latest alerts, newest first. */
  readonly events: readonly HealthEvent[];
}

export function breakerHealth(state: BreakerState): BreakerHealth {
  if (state.kind !== 'open') return { state: state.kind, sinceMs: state.since, untilMs: null, isolated: false };
  return {
    state: 'open',
    sinceMs: state.since,
    untilMs: Number.isFinite(state.until) ? state.until : null,
    isolated: state.isolated,
  };
}

export function quotaHealth(snapshot: QuotaSnapshot): QuotaHealth {
  return {
    mode: snapshot.mode,
    windows: snapshot.windows.map((w) => ({ ...w, remainingShare: w.limit > 0 ? w.remaining / w.limit : 0 })),
    spend: snapshot.spend,
    paused: snapshot.paused ?? null,
  };
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

export function cacheHealth(health: CacheHealth, stats: CacheStats): CacheHealthSnapshot {
  const lookups = stats.l1.hits + stats.l1.misses;
  return {
    ...health,
    hitRatio: {
      l1: ratio(stats.l1.hits, lookups),
      l2: ratio(stats.l2.hits, stats.l2.hits + stats.l2.misses),
      overall: ratio(stats.l1.hits + stats.l2.hits, lookups),
    },
    stats,
  };
}

/**
 * One provider's status:
 * - `down` — its breaker is open, its quota is paused, or a quota window is used up:
 *   no call can reach it now;
 * - `degraded` — its breaker is half-open, its failure share crossed the degradation
 *   threshold, a quota window is down to its reserve or below `lowShare` of its limit,
 *   or its quota counts locally because Redis is away;
 * - `ok` — otherwise.
 */
export function judgeProvider(
  parts: { readonly breaker: BreakerHealth | null; readonly quota: QuotaHealth | null; readonly degraded: boolean },
  lowShare: number,
): { status: HealthStatus; reasons: string[] } {
  const down: string[] = [];
  const degraded: string[] = [];
  const { breaker, quota } = parts;
  if (breaker?.state === 'open') down.push(breaker.isolated ? 'breaker isolated' : 'breaker open');
  if (breaker?.state === 'half-open') degraded.push('breaker half-open');
  if (parts.degraded) degraded.push('failure rate above threshold');
  if (quota !== null) {
    if (quota.paused !== null) down.push(`quota paused (${quota.paused.reason})`);
    if (quota.mode === 'fallback') degraded.push('quota counted locally: shared storage unreachable');
    for (const w of quota.windows) {
      const label = `${w.period} ${w.unit}`;
      if (w.remaining <= 0) down.push(`${label} quota used up`);
      else if (w.remaining <= w.reserve) degraded.push(`${label} quota down to its reserve`);
      else if (w.remainingShare < lowShare) degraded.push(`${label} quota low`);
    }
  }
  if (down.length > 0) return { status: 'down', reasons: [...down, ...degraded] };
  return { status: degraded.length > 0 ? 'degraded' : 'ok', reasons: degraded };
}

/**
 * The engine's status:
 * - `down` — it has remote providers and every one of them is down: verdicts rest on
 *   local providers and each route's `onUnavailable` alone;
 * - `degraded` — some provider is not `ok`, or the cache's L2 is down;
 * - `ok` — otherwise (an engine without providers is `ok`).
 */
export function judgeEngine(
  providers: readonly Pick<ProviderHealth, 'name' | 'local' | 'status'>[],
  cache: Pick<CacheHealth, 'l2'> | null,
): { status: HealthStatus; reasons: string[] } {
  const remote = providers.filter((p) => !p.local);
  const reasons = providers.filter((p) => p.status !== 'ok').map((p) => `${p.name} ${p.status}`);
  if (cache?.l2 === 'down') reasons.push('cache L2 down: serving from L1 only');
  if (remote.length > 0 && remote.every((p) => p.status === 'down')) return { status: 'down', reasons };
  return { status: reasons.length > 0 ? 'degraded' : 'ok', reasons };
}
