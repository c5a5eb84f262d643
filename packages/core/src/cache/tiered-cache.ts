/**
 * The multi-level cache: L1 (in-process LRU) in front of an optional L2 (Keyv: memory,
 * SQLite or Redis), with per-provider lifetimes, stale-on-error within a grace period,
 * stale-while-revalidate, single-flight fetches (in-process, and across instances over
 * Redis), purges that reach every instance, and an L2 that can fail without anyone
 * noticing but the health flag.
 */
import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import {
  Coordinator,
  DEFAULT_LOCK_POLL_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_LOCK_WAIT_MS,
  type CoordinatorOptions,
} from './coordinator.js';
import { CACHE_SCHEMA_VERSION, fromEnvelope, toEnvelope, type CacheEntry, type StoredEntry } from './entry.js';
import { CacheEventEmitter, reasonOf, type CacheEventName, type CacheListener } from './events.js';
import { DigestIndex } from './digest-index.js';
import { checkName, prepareSecret, subjectDigest, type KeySecret } from './keys.js';
import { DEFAULT_L1_MAX_BYTES, DEFAULT_L1_MAX_ENTRIES, L1Tier } from './l1.js';
import { createBackend, type L2Backend, type L2Option, type RedisL2Options } from './l2-backends.js';
import {
  DEFAULT_L2_FAILURE_THRESHOLD,
  DEFAULT_L2_OPEN_MS,
  DEFAULT_L2_TIMEOUT_MS,
  L2_UNAVAILABLE,
  L2Guard,
} from './l2-guard.js';
import { validateOptions } from './options.js';
import { entryFor, resolveCachePolicy, type CachePolicyOptions, type ResolvedCachePolicy } from './policy.js';
import { ProviderCacheImpl, type CacheCore } from './provider-cache.js';
import { keyMatcher, parsePurgeMessage, toPurgeMessage, type PurgeMessage, type PurgeScope } from './purge.js';
import type { BusChannel } from './redis-link.js';
import { CacheCounters, type CacheStats } from './stats.js';
import type { CacheHealth, ProviderCache, ProviderCacheOptions, PurgeReport, TieredCache, TieredCacheOptions } from './types.js';

// The public shapes live in types.ts; re-exported here for modules that import this file directly.
export type {
  CacheableFacet,
  CacheHealth,
  CacheResult,
  Freshness,
  GetOrFetchOptions,
  ProviderCache,
  ProviderCacheOptions,
  PurgeReport,
  TieredCache,
  TieredCacheOptions,
} from './types.js';

export const DEFAULT_CACHE_NAMESPACE = 'fs:cache';

/** Purges scan and delete, so they get far longer than a lookup's L2 timeout. */
export const PURGE_TIMEOUT_MS = 5_000;

const monotonic = (): number => performance.now();

class TieredCacheImpl implements TieredCache, CacheCore {
  readonly now: () => number;
  readonly counters = new CacheCounters();
  readonly #secret: KeySecret;
  readonly #digests: DigestIndex;
  readonly #l1MaxEntries: number;
  readonly #namespace: string;
  readonly #schemaVersion: number;
  readonly #defaults: CachePolicyOptions;
  readonly #l2Option: L2Option;
  readonly #l1: L1Tier;
  readonly #guard: L2Guard;
  readonly #events = new CacheEventEmitter();
  readonly #instanceId = randomUUID();
  readonly #flights = new Map<string, Promise<StoredEntry<unknown>>>();
  readonly #l2Reads = new Map<string, Promise<StoredEntry<unknown> | undefined>>();
  readonly #pendingWrites = new Set<Promise<void>>();
  /** `<provider>:<version>` of every handle, for subject purges on stores that cannot list keys. */
  readonly #scopes = new Set<string>();
  readonly #loaded: Promise<void>;
  #backend: L2Backend | undefined;
  #coordinator: Coordinator | undefined;
  /** Bumped by every purge: a fetch that started before one does not write its answer. */
  #purgeEpoch = 0;
  #closed = false;

  constructor(options: TieredCacheOptions) {
    const namespace = options.namespace ?? DEFAULT_CACHE_NAMESPACE;
    validateOptions(options, namespace);
    this.#secret = prepareSecret(options.secret);
    this.#namespace = namespace;
    this.#schemaVersion = options.schemaVersion ?? CACHE_SCHEMA_VERSION;
    this.#defaults = options.defaults ?? {};
    resolveCachePolicy(this.#defaults, {}, 'cache.defaults');
    this.now = options.now ?? Date.now;
    const secret = this.#secret;
    this.#l1MaxEntries = options.l1?.maxEntries ?? DEFAULT_L1_MAX_ENTRIES;
    this.#digests = new DigestIndex(this.#l1MaxEntries, (facet, value) => subjectDigest(secret, facet, value));
    this.#l1 = new L1Tier({
      maxEntries: this.#l1MaxEntries,
      maxBytes: options.l1?.maxBytes ?? DEFAULT_L1_MAX_BYTES,
    });
    this.#guard = new L2Guard(
      {
        timeoutMs: options.l2TimeoutMs ?? DEFAULT_L2_TIMEOUT_MS,
        failureThreshold: options.l2FailureThreshold ?? DEFAULT_L2_FAILURE_THRESHOLD,
        openMs: options.l2OpenMs ?? DEFAULT_L2_OPEN_MS,
        monotonic,
      },
      this.#events,
    );
    this.#l2Option = options.l2 ?? { memory: {} };
    this.#loaded = this.#load();
  }

  async #load(): Promise<void> {
    let backend: L2Backend | undefined;
    try {
      backend = await createBackend(this.#l2Option, {
        namespace: this.#namespace,
        guard: this.#guard,
        events: this.#events,
        onBusMessage: (channel, message) => this.#onBusMessage(channel, message),
      });
    } catch (error) {
      this.#guard.markDown(`backend-unavailable:${reasonOf(error)}`);
      return;
    }
    if (backend === undefined) return;
    if (this.#closed) {
      await backend.close().catch(() => undefined);
      return;
    }
    this.#backend = backend;
    this.#guard.setProbe(() => backend.probe());
    if (backend.link !== undefined) {
      const redis = (this.#l2Option as RedisL2Options).redis;
      const options: CoordinatorOptions = {
        timeoutMs: redis.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
        lockTtlMs: redis.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
        lockWaitMs: redis.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
        lockPollMs: redis.lockPollMs ?? DEFAULT_LOCK_POLL_MS,
        monotonic,
      };
      this.#coordinator = new Coordinator(backend.link, this.#guard, (key, since, timeoutMs) => this.#readFresh(key, since, timeoutMs), options);
    }
  }

  forProvider<T>(options: ProviderCacheOptions<T>): ProviderCache<T> {
    const version = options.version ?? '1';
    const issues: string[] = [];
    checkName('cache.provider.name', options.name, issues);
    checkName(`cache.providers.${options.name}.version`, version, issues);
    if (issues.length > 0) throw new ConfigurationError(issues);
    const policy = resolveCachePolicy<T>(options, this.#defaults, `cache.providers.${options.name}`);
    this.#scopes.add(`${options.name}:${version}`);
    return new ProviderCacheImpl<T>(this, this.#digests, this.#l1MaxEntries, options.name, version, options.facet ?? 'ip', policy);
  }

  // ---- lookups ------------------------------------------------------------------------

  lookup(key: string, now = this.now()): StoredEntry<unknown> | undefined | Promise<StoredEntry<unknown> | undefined> {
    const entry = this.#l1.get(key, now);
    if (entry !== undefined && now < entry.freshUntil) {
      this.counters.l1Hits++;
      return entry;
    }
    this.counters.l1Misses++;
    if (this.#backend === undefined) return entry;
    if (!this.#guard.allows()) {
      this.#guard.counters.skipped++;
      return entry;
    }
    return this.#lookupL2(key, entry);
  }

  async #lookupL2(key: string, held: StoredEntry<unknown> | undefined): Promise<StoredEntry<unknown> | undefined> {
    const found = await this.#readL2(key);
    if (found !== undefined && this.now() < found.freshUntil) {
      this.counters.l2Hits++;
      this.#l1.set(key, found);
      return found;
    }
    this.counters.l2Misses++;
    // A stale L2 entry still beats nothing, and a newer stale one beats an older.
    if (found !== undefined && (held === undefined || found.fetchedAt > held.fetchedAt)) {
      this.#l1.set(key, found);
      return found;
    }
    return held;
  }

  /** One L2 read per key at a time, however many lookups miss L1 together. */
  #readL2(key: string): Promise<StoredEntry<unknown> | undefined> {
    const pending = this.#l2Reads.get(key);
    if (pending !== undefined) return pending;
    const read = this.#readL2Now(key);
    this.#l2Reads.set(key, read);
    const done = (): void => {
      this.#l2Reads.delete(key);
    };
    read.then(done, done);
    return read;
  }

  async #readL2Now(key: string, timeoutMs?: number): Promise<StoredEntry<unknown> | undefined> {
    const backend = this.#backend;
    if (backend === undefined) return undefined;
    const stored = await this.#guard.run('get', () => backend.get(key), timeoutMs);
    if (stored === L2_UNAVAILABLE) return undefined;
    const decoded = fromEnvelope(stored, this.#schemaVersion);
    if (decoded.kind === 'schema-mismatch') this.counters.l2SchemaMismatches++;
    if (decoded.kind !== 'entry' || this.now() >= decoded.entry.staleUntil) return undefined;
    return decoded.entry;
  }

  async #readFresh(key: string, since: number, timeoutMs: number): Promise<StoredEntry<unknown> | undefined> {
    const entry = await this.#readL2Now(key, timeoutMs);
    return entry !== undefined && entry.fetchedAt > since && this.now() < entry.freshUntil ? entry : undefined;
  }

  // ---- fetches ------------------------------------------------------------------------

  flight<T>(
    key: string,
    fetcher: () => Promise<T>,
    policy: ResolvedCachePolicy<T>,
    previous: CacheEntry<T> | undefined,
  ): Promise<StoredEntry<T>> {
    const flying = this.#flights.get(key);
    if (flying !== undefined) {
      this.counters.coalescedLocal++;
      return flying as Promise<StoredEntry<T>>;
    }
    // A flight that landed between the caller's lookup and now has already answered it.
    const now = this.now();
    const current = this.#l1.get(key, now);
    if (current !== undefined && now < current.freshUntil && (previous === undefined || current.fetchedAt > previous.fetchedAt)) {
      this.counters.coalescedLocal++;
      return Promise.resolve(current as StoredEntry<T>);
    }
    const flight = this.#fly(key, fetcher, policy, previous?.fetchedAt ?? Number.NEGATIVE_INFINITY);
    this.#flights.set(key, flight);
    const land = (): void => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    flight.then(land, land);
    return flight;
  }

  async #fly<T>(key: string, fetcher: () => Promise<T>, policy: ResolvedCachePolicy<T>, since: number): Promise<StoredEntry<T>> {
    const epoch = this.#purgeEpoch;
    let token: string | undefined;
    const coordinator = this.#coordinator;
    if (coordinator !== undefined && !this.#closed) {
      const outcome = await coordinator.acquire(key, since);
      if (outcome.kind === 'entry') {
        this.counters.coalescedRemote++;
        if (epoch === this.#purgeEpoch) this.#l1.set(key, outcome.entry);
        return outcome.entry as StoredEntry<T>;
      }
      token = outcome.token;
    }
    this.counters.fetches++;
    let value: T;
    try {
      value = await fetcher();
    } catch (error) {
      this.counters.fetchFailures++;
      if (token !== undefined) this.#track(coordinator?.release(key, token));
      throw error;
    }
    const { entry, storable } = entryFor(policy, value, this.now());
    if (!storable) this.counters.uncacheable++;
    if (storable && epoch === this.#purgeEpoch && !this.#closed) {
      this.#l1.set(key, entry);
      this.#track(this.#persist(key, entry, token));
    } else if (token !== undefined) {
      this.#track(coordinator?.release(key, token));
    }
    return entry;
  }

  /** L2 write, then (for a lock holder) unlock and wake the waiters. Never delays a caller. */
  async #persist(key: string, entry: StoredEntry<unknown>, token: string | undefined): Promise<void> {
    await this.#writeL2(key, entry);
    if (token !== undefined) await this.#coordinator?.release(key, token);
  }

  /** Keeps background L2 work visible to purge (which waits for it) and close. */
  #track(work: Promise<void> | undefined): void {
    if (work === undefined) return;
    this.#pendingWrites.add(work);
    const done = (): void => {
      this.#pendingWrites.delete(work);
    };
    work.then(done, done);
  }

  async #writeL2(key: string, entry: StoredEntry<unknown>): Promise<void> {
    const backend = this.#backend;
    if (backend === undefined || this.#closed) return;
    const ttlMs = Math.ceil(entry.staleUntil - this.now());
    if (ttlMs <= 0) return;
    const written = await this.#guard.run('set', () =>
      backend.set(key, toEnvelope(entry, this.#schemaVersion), ttlMs),
    );
    if (written === L2_UNAVAILABLE || written === false) this.counters.l2WriteFailures++;
    else this.counters.l2Writes++;
  }

  store<T>(key: string, value: T, policy: ResolvedCachePolicy<T>): StoredEntry<T> {
    const { entry, storable } = entryFor(policy, value, this.now());
    if (!storable) {
      this.counters.uncacheable++;
      return entry;
    }
    this.#l1.set(key, entry);
    this.#track(this.#writeL2(key, entry));
    return entry;
  }

  isFlying(key: string): boolean {
    return this.#flights.has(key);
  }

  // ---- purge --------------------------------------------------------------------------

  async purge(scope: PurgeScope): Promise<PurgeReport> {
    const message = toPurgeMessage(scope, this.#secret, this.#instanceId);
    const l1Removed = this.#purgeL1(message, 'local');
    await this.#loaded;
    const l2 = await this.#purgeL2(message);
    const broadcast = await this.#broadcast(message);
    return { l1Removed, ...l2, broadcast };
  }

  #purgeL1(message: PurgeMessage, origin: 'local' | 'remote'): number {
    this.#purgeEpoch++;
    const matches = keyMatcher(message);
    const l1Removed = matches === undefined ? this.#l1.clear() : this.#l1.deleteWhere(matches);
    this.#events.emit('purge', { scope: message.p, origin, l1Removed });
    return l1Removed;
  }

  async #purgeL2(message: PurgeMessage): Promise<Pick<PurgeReport, 'l2' | 'l2Removed'>> {
    const backend = this.#backend;
    if (backend === undefined) return { l2: this.#l2Option === false ? 'off' : 'unavailable' };
    // A write that started before the purge must not land after it.
    await Promise.all(this.#pendingWrites);
    const run = <R>(call: () => Promise<R>): Promise<R | typeof L2_UNAVAILABLE> =>
      this.#guard.run('purge', call, PURGE_TIMEOUT_MS);
    if (message.p === 'all') {
      return (await run(() => backend.clear())) === L2_UNAVAILABLE ? { l2: 'unavailable' } : { l2: 'done' };
    }
    if (message.p === 'provider') {
      const removed = await run(() => backend.deleteMatching({ provider: message.n }));
      if (removed === L2_UNAVAILABLE) return { l2: 'unavailable' };
      return removed === undefined ? { l2: 'partial' } : { l2: 'done', l2Removed: removed };
    }
    let total = 0;
    let partial = false;
    for (const digest of message.d) {
      const removed = await run(() => backend.deleteMatching({ digest }));
      if (removed === L2_UNAVAILABLE) return { l2: 'unavailable' };
      if (removed !== undefined) {
        total += removed;
        continue;
      }
      partial = true;
      const known = [...this.#scopes].map((scope) => `${scope}:${digest}`);
      if ((await run(() => backend.deleteMany(known))) === L2_UNAVAILABLE) return { l2: 'unavailable' };
    }
    return partial ? { l2: 'partial' } : { l2: 'done', l2Removed: total };
  }

  async #broadcast(message: PurgeMessage): Promise<PurgeReport['broadcast']> {
    const link = this.#backend?.link;
    if (link === undefined) return 'none';
    const sent = await this.#guard.run('publish', () => link.publish('purge', JSON.stringify(message)));
    return sent === L2_UNAVAILABLE ? 'failed' : 'sent';
  }

  #onBusMessage(channel: BusChannel, text: string): void {
    if (channel === 'fill') {
      this.#coordinator?.wake(text);
      return;
    }
    const message = parsePurgeMessage(text);
    if (message !== undefined && message.o !== this.#instanceId) this.#purgeL1(message, 'remote');
  }

  // ---- observation and lifecycle ----------------------------------------------------------

  stats(): CacheStats {
    return this.counters.snapshot(this.#l1, this.#guard.counters);
  }

  health(): CacheHealth {
    const backend = this.#backend?.kind;
    if (this.#l2Option === false) return { l2: 'off', backend, crossInstance: false };
    const l2 = this.#guard.state === 'starting' ? 'starting' : this.#guard.up ? 'up' : 'down';
    return { l2, backend, crossInstance: this.#coordinator !== undefined && l2 === 'up' };
  }

  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  async ready(): Promise<void> {
    await this.#loaded;
    await this.#backend?.settled;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#coordinator?.close();
    this.#guard.close();
    await this.#loaded;
    await Promise.all(this.#pendingWrites);
    const backend = this.#backend;
    this.#backend = undefined;
    await backend?.close().catch(() => undefined);
  }
}

/**
 * Builds a multi-level cache. Defaults: L1 10 000 entries / 16 MiB, L2 in-memory Keyv,
 * 20 ms per L2 operation, 24 h fresh, 7 days grace, namespace `fs:cache`.
 *
 * @example
 * const cache = createTieredCache({
 *   secret: process.env.FS_CACHE_SECRET!,
 *   l1: { maxEntries: 50_000, maxBytes: 32 * 1024 * 1024 },
 *   l2: { redis: { url: 'redis://127.0.0.1:6379' } },
 * });
 * const ipReputation = cache.forProvider<ProviderResult>({ name: 'abuseipdb', version: '2', negativeTtlMs: 3_600_000 });
 * const result = await ipReputation.getOrFetch(ipReputation.key(subject.ip), () => check(subject), { timeoutMs: 100 });
 * await cache.close();
 */
export function createTieredCache(options: TieredCacheOptions): TieredCache {
  return new TieredCacheImpl(options);
}
