/**
 * Keeps a slow or dead L2 from ever slowing a lookup: every operation gets its own
 * short timeout, and a tiny consecutive-failure breaker stops calling L2 at all while
 * it is down, probing again after a pause. Its state is the cache's L2 health flag.
 *
 * Deliberately small and private: the engine's provider breakers live in resilience/.
 */
import { isTimeoutError, TimeoutError } from '../errors.js';
import { reasonOf, type CacheEventEmitter } from './events.js';

/** Returned instead of a value when L2 was skipped or failed; callers carry on without it. */
/** The cross-instance single-flight steps, whose timeouts do not trip the guard. */
const LOCK_STEPS: ReadonlySet<string> = new Set(['lock', 'unlock', 'publish']);

export const L2_UNAVAILABLE: unique symbol = Symbol('l2-unavailable');
export type L2Unavailable = typeof L2_UNAVAILABLE;

export interface L2GuardOptions {
  /** Per-operation timeout (default 20 ms). */
  readonly timeoutMs: number;
  /** Consecutive failures that open the breaker (default 3). */
  readonly failureThreshold: number;
  /** How long it stays open before one probe is let through (default 1 s). */
  readonly openMs: number;
  /** Monotonic milliseconds; real time even when the cache's TTL clock is a test clock. */
  readonly monotonic: () => number;
}

export const DEFAULT_L2_TIMEOUT_MS = 20;
export const DEFAULT_L2_FAILURE_THRESHOLD = 3;
export const DEFAULT_L2_OPEN_MS = 1_000;

type BreakerState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'closed'; readonly failures: number }
  | { readonly kind: 'open'; readonly until: number; readonly reason: string }
  | { readonly kind: 'half-open' };

export interface L2GuardCounters {
  errors: number;
  timeouts: number;
  skipped: number;
}

export class L2Guard {
  #state: BreakerState = { kind: 'starting' };
  /** What the last health event said, so each change is reported once. */
  #reported: 'up' | 'down' | undefined;
  readonly #options: L2GuardOptions;
  readonly #events: CacheEventEmitter;
  readonly counters: L2GuardCounters = { errors: 0, timeouts: 0, skipped: 0 };
  #probe: (() => Promise<unknown>) | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  #timeoutMs: number;

  constructor(options: L2GuardOptions, events: CacheEventEmitter) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs;
    this.#events = events;
  }

  /** True while L2 is believed to answer (the health flag). */
  get up(): boolean {
    return this.#reported === 'up';
  }

  get state(): BreakerState['kind'] {
    return this.#state.kind;
  }

  /**
   * For a store in this process's memory, which cannot hang: a timer per operation would
   * cost more than the operation itself. Operations given their own timeout keep it.
   */
  untimed(): void {
    this.#timeoutMs = Number.POSITIVE_INFINITY;
  }

  /** Whether an operation may go to L2 now; moves an expired open state to half-open. */
  allows(): boolean {
    const state = this.#state;
    if (state.kind === 'closed') return true;
    if (state.kind === 'open' && this.#options.monotonic() >= state.until) {
      this.#state = { kind: 'half-open' };
      return true;
    }
    return false;
  }

  /**
   * Runs one L2 operation under the timeout. Never rejects: a failure, a timeout or an
   * open breaker all come back as `L2_UNAVAILABLE`.
   */
  async run<T>(operation: string, call: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T | L2Unavailable> {
    // Lock steps still run while L2 is open only for being slow: they come just before an
    // upstream call that takes far longer, and skipping them sends every instance that
    // misses the same new subject upstream on its own. A Redis that errors stops them too.
    const despiteOpen = LOCK_STEPS.has(operation) && this.#openForSlowness();
    if (!despiteOpen && !this.allows()) {
      this.counters.skipped++;
      return L2_UNAVAILABLE;
    }
    if (timeoutMs === Number.POSITIVE_INFINITY) return this.#runUntimed(operation, call);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const pending = call();
      // The losing side of the race must not become an unhandled rejection later.
      pending.catch(() => undefined);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`L2 ${operation} took longer than ${timeoutMs} ms`)), timeoutMs);
        timer.unref?.();
      });
      const result = await Promise.race([pending, deadline]);
      // A lock step that got through an open guard says nothing about reads: the probe decides.
      if (!despiteOpen) this.markUp();
      return result;
    } catch (error) {
      // A slow lock step on a busy host says little about L2's health, and opening the
      // guard for it would send every miss upstream alone; real errors still count.
      const slowLockStep = isTimeoutError(error) && LOCK_STEPS.has(operation) && this.#state.kind !== 'half-open';
      if (despiteOpen && !slowLockStep) this.markDown(reasonOf(error));
      else if (!slowLockStep) this.recordFailure(operation, error);
      return L2_UNAVAILABLE;
    } finally {
      clearTimeout(timer);
    }
  }

  /** An operation of an in-process store, which cannot hang: no timer, only errors count. */
  async #runUntimed<T>(operation: string, call: () => Promise<T>): Promise<T | L2Unavailable> {
    try {
      const result = await call();
      this.markUp();
      return result;
    } catch (error) {
      this.recordFailure(operation, error);
      return L2_UNAVAILABLE;
    }
  }

  /** Open because operations were slow, not because Redis refused or failed them. */
  #openForSlowness(): boolean {
    const state = this.#state;
    return state.kind === 'open' && state.reason === 'timeout';
  }

  /**
   * A cheap operation (a PING) run in the background while the breaker is open, so L2
   * comes back — and the health flag says so — even when no lookup needs it.
   */
  setProbe(probe: () => Promise<unknown>): void {
    this.#probe = probe;
    if (this.#state.kind === 'open') this.#probeAfter(this.#options.openMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  #probeAfter(delayMs: number): void {
    if (this.#probe === undefined || this.#probeTimer !== undefined || this.#closed) return;
    const probe = this.#probe;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      const state = this.#state;
      if (state.kind !== 'open' || this.#closed) return;
      const wait = state.until - this.#options.monotonic();
      if (wait > 0) this.#probeAfter(wait);
      else void this.run('probe', probe);
    }, delayMs);
    this.#probeTimer.unref?.();
  }

  /** L2 is known to answer (an operation succeeded, or the client reports ready). */
  markUp(): void {
    if (this.#state.kind !== 'closed' || this.#state.failures !== 0) this.#state = { kind: 'closed', failures: 0 };
    if (this.#reported !== 'up') {
      this.#reported = 'up';
      this.#events.emit('l2.up', {});
    }
  }

  /** L2 is known to be unreachable (the client lost its connection): stop calling it now. */
  markDown(reason: string): void {
    this.#state = { kind: 'open', until: this.#options.monotonic() + this.#options.openMs, reason };
    this.#probeAfter(this.#options.openMs);
    if (this.#reported !== 'down') {
      this.#reported = 'down';
      this.#events.emit('l2.down', { reason });
    }
  }

  recordFailure(operation: string, error: unknown): void {
    const reason = isTimeoutError(error) ? 'timeout' : reasonOf(error);
    if (reason === 'timeout') this.counters.timeouts++;
    else this.counters.errors++;
    this.#events.emit('l2.error', { operation, reason });
    const state = this.#state;
    if (state.kind === 'half-open' || state.kind === 'starting') {
      this.markDown(reason);
    } else if (state.kind === 'closed') {
      const failures = state.failures + 1;
      if (failures >= this.#options.failureThreshold) this.markDown(reason);
      else this.#state = { kind: 'closed', failures };
    }
  }
}
