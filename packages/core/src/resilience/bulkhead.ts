/**
 * A bulkhead per provider: at most `maxConcurrent` calls run at once and at most
 * `maxQueue` wait for a slot, so one slow provider cannot tie up every socket and
 * every pending request. A call beyond both is rejected at once with `BulkheadFullError`.
 */

import { BulkheadFullError } from '../errors.js';
import { OptionIssues } from './options.js';

export interface BulkheadOptions {
  /** The provider's name, used in `BulkheadFullError`. */
  readonly name: string;
  /** Calls allowed to run at the same time. */
  readonly maxConcurrent: number;
  /** Calls allowed to wait for a slot (default 0: reject as soon as every slot is busy). */
  readonly maxQueue?: number;
}

/** A queued caller; an intrusive doubly linked list makes leaving the queue on abort O(1). */
interface Waiter {
  readonly resolve: () => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  previous: Waiter | undefined;
  next: Waiter | undefined;
}

export class Bulkhead {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private running = 0;
  private waiting = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  private rejection: BulkheadFullError | undefined;

  constructor({ name, maxConcurrent, maxQueue = 0 }: BulkheadOptions) {
    const issues = new OptionIssues(`bulkhead(${String(name)})`);
    issues.check(typeof name === 'string' && name !== '', 'name: expected a non-empty string');
    issues.integer('maxConcurrent', maxConcurrent, 1);
    issues.integer('maxQueue', maxQueue, 0);
    issues.throwIfAny();
    this.name = name;
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }

  /** Calls holding a slot now. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting;
  }

  /**
   * Takes a slot if one is free, without queueing. Pair every `true` with one `release()`.
   * While anyone is queued every slot is busy, so this cannot overtake the queue.
   */
  tryAcquire(): boolean {
    if (this.running >= this.maxConcurrent) return false;
    this.running++;
    return true;
  }

  /**
   * Waits for a slot. Rejects with `BulkheadFullError` when the queue is full, and
   * with `signal.reason` when `signal` fires first (the caller then holds no slot).
   * Pair a resolved acquire with one `release()`.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    if (this.waiting >= this.maxQueue) return Promise.reject(this.fullError());
    return this.enqueue(signal);
  }

  /** Frees a slot; the longest-waiting caller, if any, takes it over directly. */
  release(): void {
    const waiter = this.head;
    if (waiter === undefined) {
      // Extra releases are a caller bug; never let the count go negative and admit too many.
      if (this.running > 0) this.running--;
      return;
    }
    this.unlink(waiter);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
  }

  /**
   * Runs `fn` inside a slot, waiting in the queue when every slot is busy.
   *
   * @example
   * const pool = bulkhead({ name: 'abuseipdb', maxConcurrent: 8, maxQueue: 16 });
   * const answer = await pool.execute(() => provider.check(subject, { signal }), signal);
   */
  async execute<T>(fn: () => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw signal.reason;
    if (!this.tryAcquire()) await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** The error for a full bulkhead; the same instance every time, so overload costs no stack captures. */
  fullError(): BulkheadFullError {
    this.rejection ??= new BulkheadFullError(this.name);
    return this.rejection;
  }

  private enqueue(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          this.unlink(waiter);
          reject(signal?.reason);
        },
        previous: this.tail,
        next: undefined,
      };
      if (this.tail === undefined) this.head = waiter;
      else this.tail.next = waiter;
      this.tail = waiter;
      this.waiting++;
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  private unlink(waiter: Waiter): void {
    if (waiter.previous === undefined) this.head = waiter.next;
    else waiter.previous.next = waiter.next;
    if (waiter.next === undefined) this.tail = waiter.previous;
    else waiter.next.previous = waiter.previous;
    waiter.previous = undefined;
    waiter.next = undefined;
    this.waiting--;
  }
}

/**
 * Creates a bulkhead.
 *
 * @example
 * const pool = bulkhead({ name: 'stopforumspam', maxConcurrent: 4, maxQueue: 8 });
 * if (pool.tryAcquire()) {
 *   try { await call(); } finally { pool.release(); }
 * }
 */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  return new Bulkhead(options);
}
