/**
 * The quota's options, their defaults, and the checks that turn a wrong value into a
 * ConfigurationError naming the key.
 */

import { ConfigurationError } from '../errors.js';
import type { QuotaStore } from './ledger.js';
import type { PauseReason } from './pause.js';
import type { RedisCommander, RedisConnectionOptions } from './redis-link.js';

/**
 * A limit per day or month (or per rolling 24 h / 30 days).
 *
 * @example
 * const daily: QuotaLimitOptions = { limit: 1000, reserveShare: 0.1 }; // 900 for anyone, the last 100 for high-value calls
 */
export interface QuotaLimitOptions {
  /** Calls (for `daily`/`monthly`) or currency units (for `spendCap`). */
  readonly limit: number;
  /** Share of `limit` kept for high-value calls, 0 ≤ share < 1 (default 0), rounded to whole calls. */
  readonly reserveShare?: number;
  /**
   * Count over the last 24 hours / 30 days instead of the calendar day / month (default
   * false). Rolling windows count in hourly / daily buckets and may over-count by up to
   * one bucket: they err towards fewer calls.
   */
  readonly rolling?: boolean;
}

/**
 * Spend limits, in the same currency unit as `costPerCall`.
 *
 * @example
 * const spendCap: SpendCapOptions = { daily: { limit: 5 }, monthly: { limit: 100, reserveShare: 0.05 } };
 */
export interface SpendCapOptions {
  readonly daily?: QuotaLimitOptions;
  readonly monthly?: QuotaLimitOptions;
}

/**
 * Something that happened to a quota, for health monitoring and logs.
 *
 * @example
 * const quota = createQuota({ provider: 'ipapi', perMinute: 45, onEvent: (event) => health.record(event) });
 */
export type QuotaEvent =
  | { readonly type: 'quota.paused'; readonly provider: string; readonly reason: PauseReason; readonly untilMs: number }
  | {
      readonly type: 'quota.exhausted';
      readonly provider: string;
      /** e.g. `daily calls`, `monthly spend`. */
      readonly window: string;
      readonly resetAtMs: number;
      readonly reserveOnly: boolean;
    }
  /** Redis became unreachable: local limits with `fallbackShare` apply until it answers again. */
  | { readonly type: 'quota.degraded'; readonly provider: string; readonly error: string }
  | { readonly type: 'quota.recovered'; readonly provider: string }
  /** Redis or the store failed an operation (at most one event per 10 s); `error` is a name or code, never a message. */
  | { readonly type: 'quota.storage-error'; readonly provider: string; readonly storage: 'redis' | 'store'; readonly error: string };

/**
 * Everything `createQuota` accepts; only `provider` is required.
 *
 * @example
 * const options: QuotaOptions = {
 *   provider: 'abuseipdb',
 *   perSecond: 5,
 *   daily: { limit: 1000, reserveShare: 0.1 },
 *   timeZone: 'UTC',
 *   redis: { url: 'redis://127.0.0.1:6379' },
 *   fallbackShare: 0.5,
 * };
 */
export interface QuotaOptions {
  /** The provider's name; part of every key. */
  readonly provider: string;
  /** At most this many calls in any 1-second window; extra calls wait for a slot. */
  readonly perSecond?: number;
  /** At most this many calls in any 60-second window; extra calls wait for a slot. */
  readonly perMinute?: number;
  /** At most this many calls under way at once, per process. */
  readonly maxConcurrent?: number;
  readonly daily?: QuotaLimitOptions;
  readonly monthly?: QuotaLimitOptions;
  /** IANA zone whose calendar days and months the windows follow (default `UTC`). */
  readonly timeZone?: string;
  /** Cost of one call in a currency unit of your choice; enables spend accounting. */
  readonly costPerCall?: number;
  /** Spend limits; they behave like quotas (reserve share included). */
  readonly spendCap?: SpendCapOptions;
  /**
   * Where counts survive a restart when there is no Redis: any Keyv instance. With
   * `redis`, Redis holds the counts and the store is not used.
   */
  readonly store?: QuotaStore;
  /** Share quotas, rate limits and pauses with other instances: a URL (the quota owns the connection) or a connected node-redis client. */
  readonly redis?: RedisConnectionOptions | RedisCommander;
  /** Prefix of every Redis and store key (default `fs:quota:`). */
  readonly keyPrefix?: string;
  /**
   * While Redis is unreachable, this process may use this share of each limit's
   * remainder (as last seen) and of each rate (at least one call per window). Default
   * 0.5; set it to 1 / the number of instances to stay within the limits during an outage.
   */
  readonly fallbackShare?: number;
  /** The longest a call waits for a concurrency or rate slot when the caller gives no `maxWaitMs` (default 1000 ms). */
  readonly maxWaitMs?: number;
  /** Pause after a 429 without Retry-After (default 1000 ms). */
  readonly rateLimitedPauseMs?: number;
  /**
   * Pause after a quota-exceeded answer without Retry-After, when no calendar quota says
   * when the period resets (default 1 hour).
   */
  readonly quotaExceededPauseMs?: number;
  /** With Redis but no meter or rate to check per call, how long a "not paused" answer is trusted (default 100 ms). */
  readonly pauseCheckMs?: number;
  /** Per-operation timeout for Redis and the store (default 100 ms). */
  readonly storageTimeoutMs?: number;
  /** The clock for windows and pauses (default `Date.now`). */
  readonly now?: () => number;
  readonly onEvent?: (event: QuotaEvent) => void;
}

export interface ResolvedQuotaOptions {
  readonly provider: string;
  readonly perSecond: number | undefined;
  readonly perMinute: number | undefined;
  readonly maxConcurrent: number | undefined;
  readonly daily: QuotaLimitOptions | undefined;
  readonly monthly: QuotaLimitOptions | undefined;
  readonly timeZone: string;
  readonly costPerCall: number | undefined;
  readonly spendCap: SpendCapOptions;
  readonly store: QuotaStore | undefined;
  readonly redis: RedisConnectionOptions | RedisCommander | undefined;
  readonly keyPrefix: string;
  readonly fallbackShare: number;
  readonly maxWaitMs: number;
  readonly rateLimitedPauseMs: number;
  readonly quotaExceededPauseMs: number;
  readonly pauseCheckMs: number;
  readonly storageTimeoutMs: number;
  readonly now: () => number;
  readonly onEvent: (event: QuotaEvent) => void;
}

/**
 * The defaults `createQuota` fills in.
 *
 * @example
 * createQuota({ provider: 'x', maxWaitMs: QUOTA_DEFAULTS.maxWaitMs * 2 });
 */
export const QUOTA_DEFAULTS = {
  timeZone: 'UTC',
  keyPrefix: 'fs:quota:',
  fallbackShare: 0.5,
  maxWaitMs: 1_000,
  rateLimitedPauseMs: 1_000,
  quotaExceededPauseMs: 3_600_000,
  pauseCheckMs: 100,
  storageTimeoutMs: 100,
} as const;

/** Fills in defaults; throws ConfigurationError listing every wrong key. */
export function resolveQuotaOptions(options: QuotaOptions): ResolvedQuotaOptions {
  const issues: string[] = [];
  const at = `quota[${JSON.stringify(String(options.provider))}]`;
  const check = (ok: boolean, key: string, expected: string, value: unknown): void => {
    if (!ok) issues.push(`${at}.${key}: expected ${expected}, got ${describe(value)}`);
  };
  const positiveInteger = (key: string, value: number | undefined): void =>
    check(value === undefined || (Number.isInteger(value) && value > 0), key, 'a positive integer', value);
  const nonNegative = (key: string, value: number | undefined): void =>
    check(value === undefined || (Number.isFinite(value) && value >= 0), key, 'a finite number ≥ 0', value);
  const limit = (key: string, value: QuotaLimitOptions | undefined, wholeCalls: boolean): void => {
    if (value === undefined) return;
    if (wholeCalls) positiveInteger(`${key}.limit`, value.limit);
    else check(Number.isFinite(value.limit) && value.limit > 0, `${key}.limit`, 'a positive number', value.limit);
    const share = value.reserveShare;
    check(share === undefined || (share >= 0 && share < 1), `${key}.reserveShare`, 'a number with 0 ≤ share < 1', share);
  };

  check(typeof options.provider === 'string' && options.provider.length > 0, 'provider', 'a non-empty name', options.provider);
  positiveInteger('perSecond', options.perSecond);
  positiveInteger('perMinute', options.perMinute);
  positiveInteger('maxConcurrent', options.maxConcurrent);
  limit('daily', options.daily, true);
  limit('monthly', options.monthly, true);
  limit('spendCap.daily', options.spendCap?.daily, false);
  limit('spendCap.monthly', options.spendCap?.monthly, false);
  nonNegative('costPerCall', options.costPerCall);
  check(
    options.spendCap === undefined || options.costPerCall !== undefined,
    'costPerCall',
    'a cost per call when spendCap is set',
    options.costPerCall,
  );
  const share = options.fallbackShare;
  check(share === undefined || (share > 0 && share <= 1), 'fallbackShare', 'a number with 0 < share ≤ 1', share);
  nonNegative('maxWaitMs', options.maxWaitMs);
  nonNegative('rateLimitedPauseMs', options.rateLimitedPauseMs);
  nonNegative('quotaExceededPauseMs', options.quotaExceededPauseMs);
  nonNegative('pauseCheckMs', options.pauseCheckMs);
  check(
    options.storageTimeoutMs === undefined || (Number.isFinite(options.storageTimeoutMs) && options.storageTimeoutMs > 0),
    'storageTimeoutMs',
    'a positive number',
    options.storageTimeoutMs,
  );
  const redis = options.redis;
  if (redis !== undefined && 'url' in redis) {
    // Only the scheme is echoed: the URL may carry a password.
    check(/^rediss?:\/\//.test(redis.url), 'redis.url', 'a redis:// or rediss:// URL', redis.url.split(':')[0]);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);

  return {
    provider: options.provider,
    perSecond: options.perSecond,
    perMinute: options.perMinute,
    maxConcurrent: options.maxConcurrent,
    daily: options.daily,
    monthly: options.monthly,
    timeZone: options.timeZone ?? QUOTA_DEFAULTS.timeZone,
    costPerCall: options.costPerCall,
    spendCap: options.spendCap ?? {},
    store: options.store,
    redis: options.redis,
    keyPrefix: options.keyPrefix ?? QUOTA_DEFAULTS.keyPrefix,
    fallbackShare: options.fallbackShare ?? QUOTA_DEFAULTS.fallbackShare,
    maxWaitMs: options.maxWaitMs ?? QUOTA_DEFAULTS.maxWaitMs,
    rateLimitedPauseMs: options.rateLimitedPauseMs ?? QUOTA_DEFAULTS.rateLimitedPauseMs,
    quotaExceededPauseMs: options.quotaExceededPauseMs ?? QUOTA_DEFAULTS.quotaExceededPauseMs,
    pauseCheckMs: options.pauseCheckMs ?? QUOTA_DEFAULTS.pauseCheckMs,
    storageTimeoutMs: options.storageTimeoutMs ?? QUOTA_DEFAULTS.storageTimeoutMs,
    now: options.now ?? Date.now,
    onEvent: options.onEvent ?? (() => undefined),
  };
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
}
