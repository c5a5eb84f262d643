/**
 * Rate limits, concurrency, quotas, spend caps and upstream pauses per provider.
 */
export { createQuota } from './quota.js';
export type { AcquireOptions, Quota, QuotaPermit, QuotaSnapshot, QuotaWindowSnapshot } from './quota.js';
export { QUOTA_DEFAULTS } from './options.js';
export type { QuotaEvent, QuotaLimitOptions, QuotaOptions, SpendCapOptions } from './options.js';
export type { QuotaMode } from './admission.js';
export type { QuotaStore } from './ledger.js';
export type { RedisCommander, RedisConnectionOptions as QuotaRedisConnection } from './redis-link.js';
export type { PauseReason } from './pause.js';
