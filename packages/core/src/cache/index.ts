/**
 * The multi-level cache: public surface. The core's entry re-exports this file.
 */
export { createTieredCache, DEFAULT_CACHE_NAMESPACE } from './tiered-cache.js';
export type {
  CacheableFacet,
  CacheHealth,
  CacheResult,
  Freshness,
  GetOrFetchOptions,
  DigestMemo,
  ProviderCache,
  ProviderCacheOptions,
  PurgeReport,
  TieredCache,
  TieredCacheOptions,
} from './types.js';
export { cacheKey, normaliseFacet, prepareSecret, subjectDigest, MIN_SECRET_BYTES, type KeyScope, type KeySecret } from './keys.js';
export { CACHE_SCHEMA_VERSION, type CacheEntry } from './entry.js';
export { DAY_MS, DEFAULT_GRACE_MS, DEFAULT_TTL_MS, HOUR_MS, type CachePolicyOptions, type ResolvedCachePolicy } from './policy.js';
export type { L1Options } from './l1.js';
export type { CustomL2, L2Kind, L2Option, MemoryL2Options, RedisL2Options, SqliteL2Options } from './l2-backends.js';
export type { RedisConnectionOptions } from './redis-link.js';
export type { CacheEventName, CacheEvents, CacheListener, PurgeScopeKind } from './events.js';
export type { PurgeScope, PurgeableSubject } from './purge.js';
export type { CacheStats } from './stats.js';
