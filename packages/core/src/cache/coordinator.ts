/**
 * Cross-instance single-flight over Redis. The first instance to miss a key takes a
 * short lock (SET NX PX) and calls upstream; the others wait for its answer to land in
 * L2 — woken by a fill message, or by polling — and fall back to their own call when
 * the holder dies (its lock expires) or takes longer than `lockWaitMs`.
 */
import { randomBytes } from 'node:crypto';
import type { StoredEntry } from './entry.js';
import { L2_UNAVAILABLE, type L2Guard } from './l2-guard.js';
import type { RedisLink } from './redis-link.js';

export interface CoordinatorOptions {
  /**
   * Timeout of each lock-protocol operation. Longer than a lookup's L2 timeout: these
   * run only on a miss, just before an upstream call that takes far longer, and a
   * timed-out lock attempt means a duplicate upstream call.
   */
  readonly timeoutMs: number;
  readonly lockTtlMs: number;
  readonly lockWaitMs: number;
  readonly lockPollMs: number;
  readonly monotonic: () => number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 100;
export const DEFAULT_LOCK_TTL_MS = 5_000;
export const DEFAULT_LOCK_WAIT_MS = 2_000;
export const DEFAULT_LOCK_POLL_MS = 25;

/**
 * What to do after asking for the lock: call upstream holding it, use another
 * instance's answer, or call alone. `alone` may still carry a token: a lock request
 * that timed out may yet have succeeded, so the caller releases it after its own fill
 * (a no-op when the lock was never ours) and other instances' waiters are not stranded.
 */
export type AcquireOutcome =
  | { readonly kind: 'lock'; readonly token: string }
  | { readonly kind: 'entry'; readonly entry: StoredEntry<unknown> }
  | { readonly kind: 'alone'; readonly token?: string };

const ALONE: AcquireOutcome = { kind: 'alone' };

/** Reads L2 and returns an entry only if it is fresh and newer than `since` (what the caller already had). */
export type FreshReader = (key: string, since: number, timeoutMs: number) => Promise<StoredEntry<unknown> | undefined>;

export class Coordinator {
  readonly #link: RedisLink;
  readonly #guard: L2Guard;
  readonly #readFresh: FreshReader;
  readonly #options: CoordinatorOptions;
  readonly #waiters = new Map<string, Set<() => void>>();
  #closed = false;

  constructor(link: RedisLink, guard: L2Guard, readFresh: FreshReader, options: CoordinatorOptions) {
    this.#link = link;
    this.#guard = guard;
    this.#readFresh = readFresh;
    this.#options = options;
  }

  async acquire(key: string, since: number): Promise<AcquireOutcome> {
    const { timeoutMs, lockTtlMs, lockWaitMs, lockPollMs, monotonic } = this.#options;
    const giveUpAt = monotonic() + lockWaitMs;
    for (;;) {
      const token = randomBytes(12).toString('base64url');
      const locked = await this.#guard.run('lock', () => this.#link.tryLock(key, token, lockTtlMs), timeoutMs);
      if (locked === L2_UNAVAILABLE) return { kind: 'alone', token };
      if (locked) {
        // The previous holder may have filled L2 and unlocked between our lookup and this lock.
        const entry = await this.#readFresh(key, since, timeoutMs);
        if (entry === undefined) return { kind: 'lock', token };
        void this.release(key, token);
        return { kind: 'entry', entry };
      }
      const remaining = giveUpAt - monotonic();
      if (this.#closed || remaining <= 0) return ALONE;
      await this.#waitForFill(key, Math.min(lockPollMs, remaining));
      const entry = await this.#readFresh(key, since, timeoutMs);
      if (entry !== undefined) return { kind: 'entry', entry };
    }
  }

  /** Unlocks (only if the lock is still ours) after the answer is in L2, and wakes every instance's waiters. */
  async release(key: string, token: string): Promise<void> {
    const { timeoutMs } = this.#options;
    await this.#guard.run('unlock', () => this.#link.unlock(key, token), timeoutMs);
    await this.#guard.run('publish', () => this.#link.publish('fill', key), timeoutMs);
  }

  /** A fill message arrived (from any instance, this one included). */
  wake(key: string): void {
    const waiters = this.#waiters.get(key);
    if (waiters === undefined) return;
    for (const wake of [...waiters]) wake();
  }

  close(): void {
    this.#closed = true;
    for (const waiters of [...this.#waiters.values()]) for (const wake of [...waiters]) wake();
  }

  #waitForFill(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(key, waiters);
      }
      const set = waiters;
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }
}
