/**
 * The in-process tier: an LRU bounded by entry count and by approximate bytes.
 * Expiry is checked against the cache's own clock rather than lru-cache's timers, so
 * tests can move time and production pays no per-entry timer.
 */
import { LRUCache } from 'lru-cache';
import type { StoredEntry } from './entry.js';

export interface L1Options {
  /** Most entries held (default 10 000). */
  readonly maxEntries?: number;
  /** Most approximate bytes held, values measured as JSON (default 16 MiB). */
  readonly maxBytes?: number;
}

export const DEFAULT_L1_MAX_ENTRIES = 10_000;
export const DEFAULT_L1_MAX_BYTES = 16 * 1024 * 1024;

export class L1Tier {
  readonly #lru: LRUCache<string, StoredEntry<unknown>>;
  evictions = 0;

  constructor({ maxEntries = DEFAULT_L1_MAX_ENTRIES, maxBytes = DEFAULT_L1_MAX_BYTES }: L1Options) {
    this.#lru = new LRUCache<string, StoredEntry<unknown>>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (entry, key) => entry.bytes + key.length * 2,
      disposeAfter: (_entry, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  /** The entry if it is still within its grace period at `now`; a dead one is dropped. */
  get(key: string, now: number): StoredEntry<unknown> | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined || now < entry.staleUntil) return entry;
    this.#lru.delete(key);
    return undefined;
  }

  set(key: string, entry: StoredEntry<unknown>): void {
    this.#lru.set(key, entry);
  }

  /** Removes every key the predicate accepts; returns how many. */
  deleteWhere(matches: (key: string) => boolean): number {
    let removed = 0;
    // Collect first: deleting while iterating an LRU's linked list skips entries.
    for (const key of [...this.#lru.keys()]) {
      if (matches(key) && this.#lru.delete(key)) removed++;
    }
    return removed;
  }

  clear(): number {
    const removed = this.#lru.size;
    this.#lru.clear();
    return removed;
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
