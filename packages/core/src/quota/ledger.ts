/**
 * This process's meter counts, persisted to a Keyv-compatible store so that a restart
 * carries on from the stored count instead of from zero.
 *
 * Counts are kept in memory and written through after every change (one write in
 * flight per key; changes made meanwhile ride on the next). A count that could not be
 * read from the store is never written back, so an unreachable store cannot make us
 * overwrite a larger stored count with our smaller one.
 */

import { withTimeout } from './wait.js';

/**
 * The storage a quota persists its counts in when there is no Redis: any Keyv instance
 * fits (memory, SQLite, Redis), or anything with the same `get`/`set`.
 *
 * @example
 * import Keyv from 'keyv';
 * const store: QuotaStore = new Keyv({ namespace: 'formsecurity' });
 */
export interface QuotaStore {
  get(key: string): Promise<unknown>;
  /** `ttl` in milliseconds. */
  set(key: string, value: number, ttl?: number): Promise<unknown>;
}

interface Entry {
  /** The stored count when it was read; local additions are in `delta`. */
  base: number;
  delta: number;
  /** False while the stored count could not be read: the entry is then never written. */
  loaded: boolean;
  expiresAtMs: number;
  retryLoadAtMs: number;
}

interface PendingWrite {
  running: Promise<void> | undefined;
  queued: Promise<void> | undefined;
}

const RELOAD_AFTER_FAILURE_MS = 1_000;

export interface LedgerOptions {
  readonly store: QuotaStore | undefined;
  /** Prefix of every store key, e.g. `fs:quota:{ipapi}:`. */
  readonly namespace: string;
  readonly now: () => number;
  readonly timeoutMs: number;
  readonly onStoreError: (error: unknown) => void;
}

export class Ledger {
  readonly #options: LedgerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #loads = new Map<string, Promise<void>>();
  readonly #writes = new Map<string, PendingWrite>();

  constructor(options: LedgerOptions) {
    this.#options = options;
  }

  /** Keys that must be read from the store before their count can be trusted. */
  unread(keys: readonly string[]): string[] {
    const now = this.#options.now();
    const unread: string[] = [];
    let pruned = false;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry === undefined) {
        // A bucket not seen before means a window turned over: time to drop the expired ones.
        if (!pruned) this.#prune();
        pruned = true;
        if (this.#options.store === undefined) this.#entries.set(key, freshEntry(true, now));
        else unread.push(key);
      } else if (!entry.loaded && now >= entry.retryLoadAtMs) {
        unread.push(key);
      }
    }
    return unread;
  }

  /** Reads the given keys from the store; never rejects (a failed read counts from zero locally). */
  load(keys: readonly string[]): Promise<void> {
    return Promise.all(keys.map((key) => this.#loadOne(key))).then(() => undefined);
  }

  sum(keys: readonly string[]): number {
    let total = 0;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry !== undefined) total += entry.base + entry.delta;
    }
    return total;
  }

  add(key: string, amount: number, ttlMs: number): void {
    const now = this.#options.now();
    const entry = this.#entries.get(key) ?? freshEntry(this.#options.store === undefined, now);
    entry.delta += amount;
    entry.expiresAtMs = Math.max(entry.expiresAtMs, now + ttlMs);
    this.#entries.set(key, entry);
  }

  /** Writes the keys' counts to the store; resolves once they are written or have failed. */
  persist(keys: readonly string[]): Promise<void> {
    if (this.#options.store === undefined) return Promise.resolve();
    return Promise.all(keys.map((key) => this.#writeSoon(key))).then(() => undefined);
  }

  /** Resolves when every write started so far has settled. */
  async flush(): Promise<void> {
    await Promise.all([...this.#writes.values()].map((write) => write.queued ?? write.running));
  }

  #loadOne(key: string): Promise<void> {
    const store = this.#options.store;
    if (store === undefined) return Promise.resolve();
    const running = this.#loads.get(key);
    if (running !== undefined) return running;
    const load = withTimeout(store.get(this.#options.namespace + key), this.#options.timeoutMs)
      .then(
        (stored) => {
          const entry = this.#entries.get(key) ?? freshEntry(false, this.#options.now());
          entry.base = toCount(stored);
          entry.loaded = true;
          this.#entries.set(key, entry);
        },
        (error: unknown) => {
          const entry = this.#entries.get(key) ?? freshEntry(false, this.#options.now());
          entry.retryLoadAtMs = this.#options.now() + RELOAD_AFTER_FAILURE_MS;
          this.#entries.set(key, entry);
          this.#options.onStoreError(error);
        },
      )
      .finally(() => this.#loads.delete(key));
    this.#loads.set(key, load);
    return load;
  }

  #writeSoon(key: string): Promise<void> {
    const pending = this.#writes.get(key) ?? { running: undefined, queued: undefined };
    this.#writes.set(key, pending);
    if (pending.running === undefined) {
      pending.running = this.#write(key).finally(() => {
        pending.running = undefined;
        if (pending.queued === undefined) this.#writes.delete(key);
      });
      return pending.running;
    }
    pending.queued ??= pending.running.then(() => {
      pending.queued = undefined;
      return this.#writeSoon(key);
    });
    return pending.queued;
  }

  async #write(key: string): Promise<void> {
    const store = this.#options.store;
    const entry = this.#entries.get(key);
    if (store === undefined || entry === undefined || !entry.loaded) return;
    const ttlMs = Math.max(1, entry.expiresAtMs - this.#options.now());
    try {
      await withTimeout(store.set(this.#options.namespace + key, entry.base + entry.delta, ttlMs), this.#options.timeoutMs);
    } catch (error) {
      this.#options.onStoreError(error);
    }
  }

  #prune(): void {
    const now = this.#options.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAtMs < now && !this.#writes.has(key)) this.#entries.delete(key);
    }
  }
}

function freshEntry(loaded: boolean, nowMs: number): Entry {
  return { base: 0, delta: 0, loaded, expiresAtMs: nowMs, retryLoadAtMs: 0 };
}

function toCount(stored: unknown): number {
  const value = typeof stored === 'string' ? Number(stored) : stored;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
