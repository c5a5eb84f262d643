/**
 * A provider's handle on the cache: its key prefix and lifetimes, and the get-or-fetch
 * flow (hit → cached; miss or stale → single-flight fetch raced against the caller's
 * deadline → fresh, or stale within grace on failure).
 */
import type { Subject, SubjectFacet } from '../contracts.js';
import { isTimeoutError } from '../errors.js';
import { waitAtMost } from './deadline.js';
import type { CacheEntry, StoredEntry } from './entry.js';
import type { DigestIndex } from './digest-index.js';
import { DIGEST_SEPARATOR } from './keys.js';
import type { ResolvedCachePolicy } from './policy.js';
import type { CacheCounters } from './stats.js';
import type { CacheableFacet, CacheResult, DigestMemo, Freshness, GetOrFetchOptions, ProviderCache } from './types.js';

const CACHEABLE_FACETS: ReadonlySet<SubjectFacet> = new Set(['ip', 'email', 'username', 'content', 'userAgent']);

function isCacheableFacet(facet: SubjectFacet): facet is CacheableFacet {
  return CACHEABLE_FACETS.has(facet);
}

/** What a provider's handle needs from the cache it belongs to. */
export interface CacheCore {
  readonly now: () => number;
  readonly counters: CacheCounters;
  lookup(key: string, now?: number): StoredEntry<unknown> | undefined | Promise<StoredEntry<unknown> | undefined>;
  flight<T>(key: string, fetcher: () => Promise<T>, policy: ResolvedCachePolicy<T>, previous: CacheEntry<T> | undefined): Promise<StoredEntry<T>>;
  store<T>(key: string, value: T, policy: ResolvedCachePolicy<T>): StoredEntry<T>;
  isFlying(key: string): boolean;
}

function sameDigests(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ProviderCacheImpl<T> implements ProviderCache<T> {
  readonly name: string;
  readonly version: string;
  readonly facet: CacheableFacet;
  readonly policy: ResolvedCachePolicy<T>;
  readonly #cache: CacheCore;
  readonly #index: DigestIndex;
  readonly #prefix: string;
  readonly #refreshWindowMs: number;
  /** Built keys by their first digest (see `#keyOf`). */
  readonly #keys = new Map<string, { readonly rest: readonly string[] | undefined; readonly key: string }>();
  readonly #maxKeys: number;

  constructor(
    cache: CacheCore,
    index: DigestIndex,
    maxKeys: number,
    name: string,
    version: string,
    facet: CacheableFacet,
    policy: ResolvedCachePolicy<T>,
  ) {
    this.#cache = cache;
    this.#index = index;
    this.#maxKeys = maxKeys;
    this.name = name;
    this.version = version;
    this.facet = facet;
    this.policy = policy;
    this.#prefix = `${name}:${version}:`;
    this.#refreshWindowMs = policy.staleWhileRevalidateMs;
  }

  key(facetValue: string): string {
    return this.#keyOf(this.#index.digest(this.facet, facetValue), undefined);
  }

  keyFor(subject: Subject, facets?: readonly SubjectFacet[], memo?: DigestMemo): string | undefined {
    if (facets === undefined) {
      const value = subject[this.facet];
      return value === undefined || value === '' ? undefined : this.#keyOf(this.#digest(this.facet, value, memo), undefined);
    }
    let first: string | undefined;
    let rest: string[] | undefined;
    for (const facet of facets) {
      if (!isCacheableFacet(facet)) continue;
      const value = subject[facet];
      if (value === undefined || value === '') continue;
      const digest = this.#digest(facet, value, memo);
      if (first === undefined) first = digest;
      else (rest ??= []).push(digest);
    }
    return first === undefined ? undefined : this.#keyOf(first, rest);
  }

  /**
   * The key of these digests, reusing the string built last time for the same first
   * digest: V8 keeps a string's hash, so the L1 lookup of a reused key does not hash
   * 50-odd characters again (it showed as a sixth of a warm evaluation).
   */
  #keyOf(first: string, rest: readonly string[] | undefined): string {
    const known = this.#keys.get(first);
    if (known !== undefined && sameDigests(known.rest, rest)) return known.key;
    const key = rest === undefined ? this.#prefix + first : this.#prefix + first + DIGEST_SEPARATOR + rest.join(DIGEST_SEPARATOR);
    // Dropped whole when full: rebuilding a key costs less than LRU bookkeeping on every hit.
    if (this.#keys.size >= this.#maxKeys) this.#keys.clear();
    this.#keys.set(first, { rest, key });
    return key;
  }

  /** One evaluation looks each facet's digest up once for all its providers. */
  #digest(facet: SubjectFacet, value: string, memo: DigestMemo | undefined): string {
    let digest = memo?.get(facet);
    if (digest === undefined) {
      digest = this.#index.digest(facet, value);
      memo?.set(facet, digest);
    }
    return digest;
  }

  now(): number {
    return this.#cache.now();
  }

  ageOf(entry: CacheEntry<T>, now = this.#cache.now()): number {
    return now - entry.fetchedAt;
  }

  lookup(key: string, now?: number): CacheEntry<T> | undefined | Promise<CacheEntry<T> | undefined> {
    return this.#cache.lookup(key, now) as CacheEntry<T> | undefined | Promise<CacheEntry<T> | undefined>;
  }

  freshness(entry: CacheEntry<T>, now = this.#cache.now()): Freshness {
    if (now < entry.freshUntil) return now >= entry.freshUntil - this.#refreshWindowMs && this.#refreshWindowMs > 0 ? 'refresh' : 'fresh';
    return now < entry.staleUntil ? 'stale' : 'expired';
  }

  fetch(key: string, fetcher: () => Promise<T>, previous?: CacheEntry<T>): Promise<CacheEntry<T>> {
    return this.#cache.flight(key, fetcher, this.policy, previous);
  }

  refresh(key: string, fetcher: () => Promise<T>, previous: CacheEntry<T>): void {
    if (this.#cache.isFlying(key)) return;
    this.#cache.counters.refreshes++;
    this.#cache.flight(key, fetcher, this.policy, previous).catch(() => undefined);
  }

  staleResult(entry: CacheEntry<T> | undefined, cause?: unknown): CacheResult<T> | undefined {
    if (entry === undefined) return undefined;
    const now = this.#cache.now();
    if (now >= entry.staleUntil) return undefined;
    this.#cache.counters.staleServes++;
    return { status: 'stale', value: entry.value, ageMs: now - entry.fetchedAt, cause };
  }

  set(key: string, value: T): CacheEntry<T> {
    return this.#cache.store(key, value, this.policy);
  }

  getOrFetch(key: string, fetcher: () => Promise<T>, options?: GetOrFetchOptions): Promise<CacheResult<T>> {
    const found = this.lookup(key);
    if (found instanceof Promise) return found.then((entry) => this.#settle(key, fetcher, entry, options));
    return this.#settle(key, fetcher, found, options);
  }

  #settle(
    key: string,
    fetcher: () => Promise<T>,
    entry: CacheEntry<T> | undefined,
    options: GetOrFetchOptions | undefined,
  ): Promise<CacheResult<T>> {
    if (entry !== undefined) {
      const now = this.#cache.now();
      if (now < entry.freshUntil) {
        if (this.#refreshWindowMs > 0 && now >= entry.freshUntil - this.#refreshWindowMs) this.refresh(key, fetcher, entry);
        return Promise.resolve({ status: 'cached', value: entry.value, ageMs: now - entry.fetchedAt });
      }
    }
    return this.#fetchOrFallBack(key, fetcher, entry, options);
  }

  async #fetchOrFallBack(
    key: string,
    fetcher: () => Promise<T>,
    held: CacheEntry<T> | undefined,
    options: GetOrFetchOptions | undefined,
  ): Promise<CacheResult<T>> {
    const flight = this.fetch(key, fetcher, held);
    try {
      const entry = await waitAtMost(flight, options ?? {});
      return { status: 'fresh', value: entry.value, ageMs: Math.max(0, this.#cache.now() - entry.fetchedAt) };
    } catch (error) {
      if (isTimeoutError(error)) {
        flight.then(
          () => this.#cache.counters.lateFills++,
          () => undefined,
        );
      }
      const fallback = options?.acceptStale === false ? undefined : this.staleResult(held, error);
      if (fallback !== undefined) return fallback;
      throw error;
    }
  }
}
