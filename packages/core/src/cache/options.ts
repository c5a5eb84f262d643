/**
 * Validation of the cache's options: every wrong key is named with what was expected.
 */
import { ConfigurationError } from '../errors.js';
import { checkNamespace } from './keys.js';
import type { TieredCacheOptions } from './types.js';

function positive(path: string, value: number | undefined, issues: string[], { integer = false } = {}): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    issues.push(`${path}: expected a ${integer ? 'positive integer' : 'positive number'}, got ${String(value)}`);
  }
}

export function validateOptions(options: TieredCacheOptions, namespace: string): void {
  const issues: string[] = [];
  checkNamespace('cache.namespace', namespace, issues);
  positive('cache.l1.maxEntries', options.l1?.maxEntries, issues, { integer: true });
  positive('cache.l1.maxBytes', options.l1?.maxBytes, issues, { integer: true });
  positive('cache.l2TimeoutMs', options.l2TimeoutMs, issues);
  positive('cache.l2FailureThreshold', options.l2FailureThreshold, issues, { integer: true });
  positive('cache.l2OpenMs', options.l2OpenMs, issues);
  positive('cache.schemaVersion', options.schemaVersion, issues, { integer: true });
  const l2 = options.l2;
  if (typeof l2 === 'object' && 'redis' in l2) {
    if (typeof l2.redis.url !== 'string' || l2.redis.url === '') issues.push('cache.l2.redis.url: expected a redis:// URL');
    positive('cache.l2.redis.lockTimeoutMs', l2.redis.lockTimeoutMs, issues);
    positive('cache.l2.redis.lockTtlMs', l2.redis.lockTtlMs, issues);
    positive('cache.l2.redis.lockWaitMs', l2.redis.lockWaitMs, issues);
    positive('cache.l2.redis.lockPollMs', l2.redis.lockPollMs, issues);
    positive('cache.l2.redis.connectTimeoutMs', l2.redis.connectTimeoutMs, issues);
  } else if (typeof l2 === 'object' && 'sqlite' in l2) {
    if (typeof l2.sqlite.path !== 'string' || l2.sqlite.path === '') issues.push('cache.l2.sqlite.path: expected a file path');
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}
