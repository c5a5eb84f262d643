/**
 * The cache's public shapes: its options, a provider's handle, and what lookups,
 * purges and health checks hand back.
 */
import type { Subject, SubjectFacet } from '../contracts.js';
import type { CacheEntry } from './entry.js';
import type { CacheEventName, CacheListener } from './events.js';
import type { L1Options } from './l1.js';
import type { L2Kind, L2Option } from './l2-backends.js';
import type { CachePolicyOptions, ResolvedCachePolicy } from './policy.js';
import type { PurgeScope } from './purge.js';
import type { CacheStats } from './stats.js';
import type { WaitOptions } from './deadline.js';
import type { Secret } from '../config/secret.js';

/**
 * Options of {@link createTieredCache}. Only `secret` is required.
 */
export interface TieredCacheOptions {
  /** HMAC key for cache keys, at least 16 bytes. Keep it stable: changing it empties the cache. */
  readonly secret: string | Uint8Array | Secret;
  /** Prefix of every stored key and channel, so several apps can share one Redis (default `fs:cache`). */
  readonly namespace?: string;
  /** L1 bounds (default 10 000 entries, 16 MiB). */
  readonly l1?: L1Options;
  /**
   * The L2 tier (default `{ memory: {} }`): `{ redis: { url } }` for many instances,
   * `{ sqlite: { path } }` for one, any `Keyv` instance, or `false` for L1 only.
   */
  readonly l2?: L2Option;
  /** Timeout of each L2 operation (default 20 ms). */
  readonly l2TimeoutMs?: number;
  /** Consecutive L2 failures after which L2 is skipped (default 3). */
  readonly l2FailureThreshold?: number;
  /** How long L2 is skipped before one probe (default 1 s; a Redis reconnect ends it sooner). */
  readonly l2OpenMs?: number;
  /** Lifetimes for providers that do not set their own (defaults: 24 h fresh, 7 days grace). */
  readonly defaults?: CachePolicyOptions;
  /** Version of the stored envelope; entries written under another version are misses. */
  readonly schemaVersion?: number;
  /** The clock of every TTL decision, in epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** The subject facets a provider's answers can be keyed by. */
export type CacheableFacet = 'ip' | 'email' | 'username' | 'content' | 'userAgent';

/** One provider's view of the cache: its key prefix and its lifetimes. */
export interface ProviderCacheOptions<T> extends CachePolicyOptions<T> {
  /** The provider's name (A-Z a-z 0-9 . _ -). */
  readonly name: string;
  /** Bump when the meaning of the provider's answer changes: old entries are then never read (default `1`). */
  readonly version?: string;
  /** The subject facet its answers depend on (default `ip`). */
  readonly facet?: CacheableFacet;
}

/** Where a lookup's answer stands at this moment. */
export type Freshness = 'fresh' | 'refresh' | 'stale' | 'expired';

/** What `getOrFetch` hands back. */
export interface CacheResult<T> {
  /** `fresh`: fetched for this call (or by a call it joined); `cached`: a hit; `stale`: past its TTL, served because the fetch failed. */
  readonly status: 'fresh' | 'cached' | 'stale';
  readonly value: T;
  /** Time since the value was fetched. */
  readonly ageMs: number;
  /** Why a stale value was served: the fetch's error, or a TimeoutError at the deadline. */
  readonly cause?: unknown;
}

export interface GetOrFetchOptions extends WaitOptions {
  /** Serve a stale value within grace when the fetch fails or is late (default true). */
  readonly acceptStale?: boolean;
}

/**
 * A provider's handle on the cache.
 *
 * @example
 * const dnsbl = cache.forProvider<ProviderResult>({ name: 'dnsbl', ttlMs: 6 * HOUR_MS, negativeTtlMs: HOUR_MS });
 * const key = dnsbl.key('203.0.113.7');
 * const result = await dnsbl.getOrFetch(key, () => provider.check(subject, { signal }), { signal });
 */
/** Facet digests already computed during one evaluation, shared by its providers (a `Map` will do). */
export interface DigestMemo {
  get(facet: SubjectFacet): string | undefined;
  set(facet: SubjectFacet, digest: string): unknown;
}

export interface ProviderCache<T> {
  readonly name: string;
  readonly version: string;
  readonly facet: CacheableFacet;
  readonly policy: ResolvedCachePolicy<T>;
  /** The cache key of one facet value: `<name>:<version>:<HMAC>`. */
  key(facetValue: string): string;
  /**
   * The key of a subject, or `undefined` when the subject has none of the facets. By
   * default the handle's `facet`; pass a provider's `facets` when its answer depends on
   * several: every one present goes into the key (`<digest>.<digest>`, in the given
   * order), so a subject purge by any of them still finds it.
   */
  keyFor(subject: Subject, facets?: readonly SubjectFacet[], memo?: DigestMemo): string | undefined;
  /**
   * The cache's clock (epoch ms). `lookup`, `freshness` and `ageOf` read it themselves;
   * a caller doing all three at once may read it once here and pass the reading, since
   * a clock reading costs as much as the rest of a warm lookup on some machines.
   */
  now(): number;
  /** Time since the entry was fetched, on the cache's clock (`now`: a reading already taken). */
  ageOf(entry: CacheEntry<T>, now?: number): number;
  /**
   * L1, then L2. Synchronous on an L1 hit (and whenever L2 is off or down); a promise
   * only when L2 must be asked. May return a stale entry: check it with `freshness`.
   */
  lookup(key: string, now?: number): CacheEntry<T> | undefined | Promise<CacheEntry<T> | undefined>;
  freshness(entry: CacheEntry<T>, now?: number): Freshness;
  /**
   * One upstream call per key however many callers ask, across instances when Redis is
   * L2; its answer fills L1 and L2 even when every caller has stopped waiting.
   * `previous` is what the caller already holds: only a newer answer satisfies it.
   */
  fetch(key: string, fetcher: () => Promise<T>, previous?: CacheEntry<T>): Promise<CacheEntry<T>>;
  /** Starts a background fetch for an entry in its refresh window; errors are counted, never thrown. */
  refresh(key: string, fetcher: () => Promise<T>, previous: CacheEntry<T>): void;
  /** A `stale` result from `entry` if it is still within grace (counted as a stale serve), else `undefined`. */
  staleResult(entry: CacheEntry<T> | undefined, cause?: unknown): CacheResult<T> | undefined;
  /** Stores an answer obtained elsewhere. */
  set(key: string, value: T): CacheEntry<T>;
  /** The whole flow: hit → `cached`; miss or stale → single-flight fetch raced against the deadline → `fresh`, or `stale` on failure. */
  getOrFetch(key: string, fetcher: () => Promise<T>, options?: GetOrFetchOptions): Promise<CacheResult<T>>;
}

/** L2 health: `starting` until the back-end has loaded, `off` when there is no L2. */
export interface CacheHealth {
  readonly l2: 'off' | 'starting' | 'up' | 'down';
  readonly backend: L2Kind | undefined;
  /** Whether single-flight and purges currently reach other instances. */
  readonly crossInstance: boolean;
}

/** How a purge went: L2 `partial` means the store cannot list keys, so only keys of providers known here were removed. */
export interface PurgeReport {
  readonly l1Removed: number;
  readonly l2: 'done' | 'partial' | 'unavailable' | 'off';
  /** Keys removed from L2, when the store can count them. */
  readonly l2Removed?: number;
  /** `sent` when other instances were told over Redis; `none` when there is no bus (single instance). */
  readonly broadcast: 'sent' | 'failed' | 'none';
}

/**
 * A multi-level cache. Build it with {@link createTieredCache}.
 *
 * @example
 * const cache = createTieredCache({ secret: process.env.FS_CACHE_SECRET!, l2: { redis: { url: 'redis://127.0.0.1:6379' } } });
 * cache.on('l2.down', ({ reason }) => logger.warn('cache L2 down', { reason }));
 */
export interface TieredCache {
  forProvider<T>(options: ProviderCacheOptions<T>): ProviderCache<T>;
  /** Forgets a subject, a provider or everything, in L1 and L2 here and in every instance's L1. */
  purge(scope: PurgeScope): Promise<PurgeReport>;
  stats(): CacheStats;
  health(): CacheHealth;
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void;
  /** Resolves once L2 has connected or failed to; lookups before that use L1 alone. Never rejects. */
  ready(): Promise<void>;
  /** Ends connections and timers; lookups afterwards use L1 alone. */
  close(): Promise<void>;
}
