/**
 * Per-provider lifetimes: how long an answer is fresh, how long a "not listed" answer
 * is, how long a stale one is still worth serving when the upstream fails, and how
 * early to refresh a popular one in the background.
 */
import { ConfigurationError } from '../errors.js';
import { createEntry, serialisedBytes, type StoredEntry } from './entry.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Lifetimes for one provider's answers. All durations are milliseconds. */
export interface CachePolicyOptions<T = unknown> {
  /** How long an answer is served as `cached` (default 24 h). */
  readonly ttlMs?: number;
  /**
   * A shorter lifetime for negative ("not listed") answers, so a newly listed abuser is
   * noticed sooner (default: `ttlMs`). Which answers are negative is `isNegative`'s call.
   */
  readonly negativeTtlMs?: number;
  /** Says whether an answer is negative (default: a numeric `score` of 0). */
  readonly isNegative?: (value: T) => boolean;
  /** How long after `ttlMs` a stale answer may still stand in for a failed fetch (default 7 days). */
  readonly graceMs?: number;
  /**
   * Within this long before expiry a hit is still `cached`, and a background fetch
   * refreshes it (default 0: off). Must be shorter than every TTL.
   */
  readonly staleWhileRevalidateMs?: number;
}

/** A policy with every default filled in. */
export interface ResolvedCachePolicy<T = unknown> {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly isNegative: (value: T) => boolean;
  readonly graceMs: number;
  readonly staleWhileRevalidateMs: number;
}

export const DEFAULT_TTL_MS = DAY_MS;
export const DEFAULT_GRACE_MS = 7 * DAY_MS;

function zeroScore(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { score?: unknown }).score === 0;
}

function checkDuration(path: string, value: number, issues: string[], { positive }: { positive: boolean }): void {
  const ok = Number.isFinite(value) && (positive ? value > 0 : value >= 0);
  if (!ok) issues.push(`${path}: expected a finite number of milliseconds ${positive ? '> 0' : '>= 0'}, got ${String(value)}`);
}

/**
 * Fills in a provider's lifetimes from the cache-wide defaults, then the built-in ones,
 * and rejects impossible combinations.
 *
 * @example
 * const policy = resolveCachePolicy({ ttlMs: 6 * HOUR_MS, negativeTtlMs: HOUR_MS }, {}, 'cache.providers.dnsbl');
 */
export function resolveCachePolicy<T>(
  options: CachePolicyOptions<T>,
  defaults: CachePolicyOptions,
  path: string,
): ResolvedCachePolicy<T> {
  const ttlMs = options.ttlMs ?? defaults.ttlMs ?? DEFAULT_TTL_MS;
  const negativeTtlMs = options.negativeTtlMs ?? defaults.negativeTtlMs ?? ttlMs;
  const graceMs = options.graceMs ?? defaults.graceMs ?? DEFAULT_GRACE_MS;
  const staleWhileRevalidateMs = options.staleWhileRevalidateMs ?? defaults.staleWhileRevalidateMs ?? 0;
  const issues: string[] = [];
  checkDuration(`${path}.ttlMs`, ttlMs, issues, { positive: true });
  checkDuration(`${path}.negativeTtlMs`, negativeTtlMs, issues, { positive: true });
  checkDuration(`${path}.graceMs`, graceMs, issues, { positive: false });
  checkDuration(`${path}.staleWhileRevalidateMs`, staleWhileRevalidateMs, issues, { positive: false });
  if (staleWhileRevalidateMs >= Math.min(ttlMs, negativeTtlMs)) {
    issues.push(`${path}.staleWhileRevalidateMs: expected less than ttlMs and negativeTtlMs, got ${staleWhileRevalidateMs}`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  return {
    ttlMs,
    negativeTtlMs,
    graceMs,
    staleWhileRevalidateMs,
    isNegative: options.isNegative ?? defaults.isNegative ?? zeroScore,
  };
}

/**
 * Stamps a fetched answer with its lifetimes. `bytes` is `undefined` when the value is
 * not JSON-serialisable: such a value is handed to its callers but never stored.
 */
export function entryFor<T>(policy: ResolvedCachePolicy<T>, value: T, fetchedAt: number): { entry: StoredEntry<T>; storable: boolean } {
  const freshUntil = fetchedAt + (policy.isNegative(value) ? policy.negativeTtlMs : policy.ttlMs);
  const bytes = serialisedBytes(value);
  return {
    entry: createEntry(value, fetchedAt, freshUntil, freshUntil + policy.graceMs, bytes ?? 0),
    storable: bytes !== undefined,
  };
}
