import { randomBytes } from 'node:crypto';
import type { Provider, ProviderLimits, ProviderResult } from '../contracts.js';
import { createTieredCache } from '../cache/tiered-cache.js';
import type { ProviderCache, TieredCache, TieredCacheOptions } from '../cache/tiered-cache.js';
import type { CachePolicyOptions } from '../cache/policy.js';
import type { Logger } from '../log/logger.js';
import { createQuota } from '../quota/quota.js';
import type { Quota } from '../quota/quota.js';
import type { QuotaOptions, QuotaStore } from '../quota/index.js';
import { bulkhead } from '../resilience/bulkhead.js';
import type { Bulkhead } from '../resilience/bulkhead.js';
import { circuitBreaker } from '../resilience/circuit-breaker.js';
import type { CircuitBreaker, CircuitBreakerOptions } from '../resilience/circuit-breaker.js';
import { countWindow } from '../resilience/count-window.js';
import { createBreakerBus } from '../resilience/redis-bus.js';
import type { BreakerBus } from '../resilience/redis-bus.js';
import type { EngineEvents } from './events.js';

/** Breaker settings of one provider (the name and clock come from the engine). */
export type ProviderBreakerOptions = Omit<CircuitBreakerOptions, 'name' | 'now'>;
/** Quota settings of one provider (store, Redis, clock and events come from the engine). */
export type ProviderQuotaOptions = Omit<QuotaOptions, 'provider' | 'store' | 'redis' | 'now' | 'onEvent'>;

/** A provider with the engine-level settings that override its own defaults. */
export interface ProviderRegistration {
  readonly provider: Provider;
  /** How much a full score from this provider counts, 0..1 (default: the provider's, else 1). */
  readonly weight?: number;
  /** Longest one upstream call may run while a cache waits for its answer (default 3 000 ms). */
  readonly timeoutMs?: number;
  /** Default: failure rate ≥ 50 % or slow calls (≥ 2 s) ≥ 80 % over the last 20 calls, at least 10. */
  readonly breaker?: false | ProviderBreakerOptions;
  /** Default: 32 concurrent upstream calls, no queue. */
  readonly bulkhead?: false | { readonly maxConcurrent: number; readonly maxQueue?: number };
  /** Rate limits, quotas and spend caps (default: the provider's documented `limits`), or `false`. */
  readonly quota?: false | ProviderQuotaOptions;
  /** Lifetimes of its cached answers (default: the provider's `ttlMs`, 7 days grace), or `false`. */
  readonly cache?: false | CachePolicyOptions<ProviderResult>;
}

/** Engine-wide back-ends. */
export interface Backends {
  /**
   * One Redis for the shared cache tier, quotas and breaker state across instances.
   * `breakerChannel` (default `formsecurity:breaker`) separates applications sharing a Redis.
   */
  readonly redis?: { readonly url: string; readonly breakerChannel?: string };
  /** The tiered cache (default: L1 + in-memory L2, or Redis L2 when `redis` is set), or `false`. */
  readonly cache?: false | Partial<TieredCacheOptions>;
  /** Where quotas persist without Redis (any Keyv; default: in memory). */
  readonly quotaStore?: QuotaStore;
}

export const DEFAULT_TIMEOUT_MS = 3_000;
const DEFAULT_CONCURRENCY = 32;
const CACHE_SECRET_ENV = 'FORMSECURITY_CACHE_SECRET';

/** The shared pieces of one engine; `close()` releases all of them. */
export interface Dependencies {
  readonly cache: TieredCache | undefined;
  readonly bus: BreakerBus | undefined;
  readonly quotas: Map<string, Quota>;
  readonly breakers: Map<string, CircuitBreaker>;
  close(): Promise<void>;
}

function cacheSecret(configured: TieredCacheOptions['secret'] | undefined, logger: Logger): TieredCacheOptions['secret'] {
  const secret = configured ?? process.env[CACHE_SECRET_ENV];
  if (secret !== undefined && secret !== '') return secret;
  logger.warn(
    `no cache secret configured (cache.secret or ${CACHE_SECRET_ENV}): using a random one for this process, ` +
      'so cached answers are not shared with other instances or kept across restarts',
  );
  return randomBytes(32);
}

export function createDependencies(
  backends: Backends,
  events: EngineEvents,
  logger: Logger,
  clock: (() => number) | undefined,
): Dependencies {
  let cache: TieredCache | undefined;
  if (backends.cache !== false) {
    const options = backends.cache ?? {};
    cache = createTieredCache({
      ...options,
      secret: cacheSecret(options.secret, logger),
      ...(options.l2 === undefined && backends.redis !== undefined ? { l2: { redis: { url: backends.redis.url } } } : {}),
      ...(clock === undefined || options.now !== undefined ? {} : { now: clock }),
    });
    cache.on('l2.down', ({ reason }) => {
      logger.warn('cache L2 down: serving from L1 only', { reason });
      events.emit({ type: 'cache.l2.down', reason });
    });
    cache.on('l2.up', () => {
      logger.info('cache L2 up');
      events.emit({ type: 'cache.l2.up' });
    });
  }
  const bus =
    backends.redis === undefined
      ? undefined
      : createBreakerBus({
          redis: backends.redis.url,
          ...(backends.redis.breakerChannel === undefined ? {} : { channel: backends.redis.breakerChannel }),
          onError: (error) => logger.debug('breaker bus error', { error }),
        });
  const quotas = new Map<string, Quota>();
  const breakers = new Map<string, CircuitBreaker>();
  return {
    cache,
    bus,
    quotas,
    breakers,
    async close() {
      await Promise.allSettled([cache?.close(), bus?.close(), ...[...quotas.values()].map((q) => q.close())]);
    },
  };
}

/** A provider's documented limits as quota options (`undefined` when it states none). */
function quotaFromLimits(limits: ProviderLimits | undefined): ProviderQuotaOptions | undefined {
  if (limits === undefined) return undefined;
  return {
    ...(limits.perSecond === undefined ? {} : { perSecond: limits.perSecond }),
    ...(limits.perMinute === undefined ? {} : { perMinute: limits.perMinute }),
    ...(limits.daily === undefined ? {} : { daily: { limit: limits.daily } }),
    ...(limits.monthly === undefined ? {} : { monthly: { limit: limits.monthly } }),
  };
}

/** The guards and cache of one non-local provider, built from its registration. */
export interface ProviderParts {
  readonly breaker?: CircuitBreaker;
  readonly bulkhead?: Bulkhead;
  readonly quota?: Quota;
  readonly cache?: ProviderCache<ProviderResult>;
}

export function createProviderParts(
  registration: ProviderRegistration,
  dependencies: Dependencies,
  backends: Backends,
  events: EngineEvents,
  logger: Logger,
  clock: (() => number) | undefined,
): ProviderParts {
  const { provider } = registration;
  if (provider.local === true) return {};
  const name = provider.name;
  const parts: { -readonly [K in keyof ProviderParts]: ProviderParts[K] } = {};

  if (registration.breaker !== false) {
    const breaker = circuitBreaker({
      strategy: countWindow({ size: 20, minimumCalls: 10, failureRate: 0.5, slowCallRate: 0.8 }),
      slowCallMs: 2_000,
      ...registration.breaker,
      name,
      ...(clock === undefined ? {} : { now: clock }),
    });
    breaker.on('open', (e) => {
      logger.warn('circuit breaker open', { provider: name, reason: e.reason, origin: e.origin, until: e.until });
      events.emit({ type: 'breaker.open', provider: name, reason: e.reason, origin: e.origin, untilMs: e.until });
    });
    breaker.on('half-open', () => {
      logger.info('circuit breaker half-open', { provider: name });
      events.emit({ type: 'breaker.half-open', provider: name });
    });
    breaker.on('close', (e) => {
      logger.info('circuit breaker closed', { provider: name, reason: e.reason, origin: e.origin });
      events.emit({ type: 'breaker.close', provider: name, reason: e.reason, origin: e.origin });
    });
    dependencies.bus?.attach(breaker);
    dependencies.breakers.set(name, breaker);
    parts.breaker = breaker;
  }

  if (registration.bulkhead !== false) {
    const limits = registration.bulkhead ?? { maxConcurrent: DEFAULT_CONCURRENCY };
    parts.bulkhead = bulkhead({ name, ...limits });
  }

  const quotaOptions = registration.quota ?? quotaFromLimits(provider.defaults?.limits);
  if (quotaOptions !== undefined && quotaOptions !== false) {
    const quota = createQuota({
      ...quotaOptions,
      provider: name,
      ...(backends.redis === undefined ? {} : { redis: { url: backends.redis.url } }),
      ...(backends.quotaStore === undefined ? {} : { store: backends.quotaStore }),
      ...(clock === undefined ? {} : { now: clock }),
      onEvent: (event) => {
        if (event.type !== 'quota.storage-error') logger.warn(event.type, { ...event });
        events.emit(event);
      },
    });
    dependencies.quotas.set(name, quota);
    parts.quota = quota;
  }

  if (dependencies.cache !== undefined && registration.cache !== false) {
    parts.cache = dependencies.cache.forProvider<ProviderResult>({
      ...(provider.defaults?.ttlMs === undefined ? {} : { ttlMs: provider.defaults.ttlMs }),
      ...registration.cache,
      name,
      version: provider.version ?? '1',
    });
  }
  return parts;
}
