/**
 * One provider's quota: rate limits, concurrency, daily/monthly quotas with a reserve
 * for high-value calls, spend accounting, and pauses the upstream asked for. Every
 * refusal is a QuotaExhaustedError; nothing here ever waits past the caller's patience.
 */

import type { UpstreamLimits } from '../contracts.js';
import { QuotaExhaustedError } from '../errors.js';
import type { Admission, AdmissionBackend, QuotaMode } from './admission.js';
import { createCalendar, type Calendar } from './calendar.js';
import { Ledger } from './ledger.js';
import { LocalBackend } from './local-backend.js';
import { Meter, SPEND_SCALE, type MeterPeriod, type MeterUnit } from './meters.js';
import { resolveQuotaOptions, type QuotaEvent, type QuotaLimitOptions, type QuotaOptions, type ResolvedQuotaOptions } from './options.js';
import { PauseState, pauseFromError, pauseFromUpstream, type PauseReason } from './pause.js';
import { RateLog } from './rate-log.js';
import { RedisLink } from './redis-link.js';
import { Semaphore, SlotRefusedError } from './semaphore.js';
import { SharedBackend } from './shared-backend.js';
import { sleep } from './wait.js';

/**
 * What one call asks of the quota.
 *
 * @example
 * const options: AcquireOptions = { highValue: policy.highValue, signal, maxWaitMs: deadlineMs - Date.now() };
 */
export interface AcquireOptions {
  /** A high-value call may spend the reserve (RoutePolicy.highValue). */
  readonly highValue?: boolean;
  /** Ends the wait for a slot at once; the call then gets QuotaExhaustedError. */
  readonly signal?: AbortSignal;
  /** The longest this call waits for a slot (default: the quota's `maxWaitMs`). Pass the request's remaining budget. */
  readonly maxWaitMs?: number;
  /** This call's cost when it differs from `costPerCall`. */
  readonly cost?: number;
}

/**
 * Leave to make one call; `release()` when the call is over (idempotent).
 *
 * @example
 * const permit = await quota.acquire();
 * try { await provider.check(subject, { signal }); } finally { permit.release(); }
 */
export interface QuotaPermit {
  /** Time spent waiting for concurrency and rate slots. */
  readonly waitedMs: number;
  release(): void;
}

/**
 * One quota or spend-cap window in a snapshot; spend windows are in currency units.
 *
 * @example
 * const window: QuotaWindowSnapshot = {
 *   period: 'daily', unit: 'calls', rolling: false,
 *   limit: 1000, used: 940, remaining: 60, reserve: 100, resetAtMs: 1717200000000,
 * };
 */
export interface QuotaWindowSnapshot {
  readonly period: MeterPeriod;
  readonly unit: MeterUnit;
  readonly rolling: boolean;
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** Part of `limit` only high-value calls may use. */
  readonly reserve: number;
  readonly resetAtMs: number;
}

/**
 * The quota's state for a health page.
 *
 * @example
 * const { mode, windows, spend, paused } = await quota.snapshot();
 * if (paused !== undefined) console.log(`paused until ${new Date(paused.untilMs).toISOString()} (${paused.reason})`);
 */
export interface QuotaSnapshot {
  readonly provider: string;
  readonly mode: QuotaMode;
  readonly windows: readonly QuotaWindowSnapshot[];
  /** Spent in the current day and month (present when `costPerCall` is set). */
  readonly spend: { readonly daily?: number; readonly monthly?: number };
  readonly inFlight: number;
  readonly waiting: number;
  readonly paused?: { readonly untilMs: number; readonly reason: PauseReason };
  /** The last limits the upstream reported. */
  readonly upstream?: UpstreamLimits & { readonly observedAtMs: number };
}

/**
 * One provider's quota. The engine calls `acquire` after the breaker admits a call,
 * `release` on the permit when the call ends, then `observe` or `observeError`.
 *
 * @example
 * const permit = await quota.acquire({ highValue: policy.highValue, signal, maxWaitMs: remainingBudget });
 * try {
 *   const result = await provider.check(subject, { signal });
 *   void quota.observe(result.upstream);
 * } catch (error) {
 *   void quota.observeError(error);
 * } finally {
 *   permit.release();
 * }
 */
export interface Quota {
  readonly provider: string;
  /** Resolves to a permit, or rejects with QuotaExhaustedError (with `retryAfterMs` when known). */
  acquire(options?: AcquireOptions): Promise<QuotaPermit>;
  /** Reports what the upstream said about its limits; pauses when it says to wait. Never rejects. */
  observe(upstream: UpstreamLimits | undefined): Promise<void>;
  /** Pauses on a `rate-limited` or `quota-exceeded` ProviderResponseError; ignores every other error. Never rejects. */
  observeError(error: unknown): Promise<void>;
  /** Stops calls for `ms` in every instance sharing the quota. Never rejects. */
  pause(ms: number, reason: PauseReason): Promise<void>;
  snapshot(): Promise<QuotaSnapshot>;
  /**
   * Resolves true once the shared storage is reachable (at once without Redis), false
   * after `timeoutMs` (default 2000). Calls made before then are counted locally and
   * added to the shared counts later; await this at start-up to avoid that.
   */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Refuses further calls, ends waits, writes pending counts and closes an owned Redis connection. */
  close(): Promise<void>;
}

const NO_WAIT_PERMIT: QuotaPermit = Object.freeze({ waitedMs: 0, release: () => undefined });
const STORAGE_ERROR_EVENT_INTERVAL_MS = 10_000;
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Builds one provider's quota. Without `redis` it is local (counts persisted in `store`
 * when given); with `redis` it is shared by every instance using the same Redis and
 * `keyPrefix`, and falls back to local limits with `fallbackShare` while Redis is away.
 *
 * @example
 * const quota = createQuota({
 *   provider: 'abuseipdb',
 *   perSecond: 5,
 *   daily: { limit: 1000, reserveShare: 0.1 },
 *   timeZone: 'America/New_York',
 *   redis: { url: 'redis://127.0.0.1:6379' },
 * });
 * const permit = await quota.acquire({ highValue: false });
 * permit.release();
 * await quota.close();
 */
export function createQuota(options: QuotaOptions): Quota {
  return new ProviderQuota(resolveQuotaOptions(options));
}

class ProviderQuota implements Quota {
  readonly provider: string;
  readonly #options: ResolvedQuotaOptions;
  readonly #meters: readonly Meter[];
  readonly #backend: AdmissionBackend;
  readonly #semaphore: Semaphore | undefined;
  readonly #pause = new PauseState();
  /** Nothing to count or wait for: acquire only checks the pause. */
  readonly #unlimited: boolean;
  readonly #background = new Set<Promise<void>>();
  readonly #exhaustedReported = new Set<string>();
  readonly #lastStorageErrorMs = { redis: Number.NEGATIVE_INFINITY, store: Number.NEGATIVE_INFINITY };
  #upstream: (UpstreamLimits & { observedAtMs: number }) | undefined;
  #closed = false;

  constructor(options: ResolvedQuotaOptions) {
    this.#options = options;
    this.provider = options.provider;
    const calendar = createCalendar(options.timeZone);
    this.#meters = buildMeters(options, calendar);
    const rates: RateLog[] = [];
    if (options.perSecond !== undefined) rates.push(new RateLog(options.perSecond, 1_000));
    if (options.perMinute !== undefined) rates.push(new RateLog(options.perMinute, 60_000));
    this.#semaphore = options.maxConcurrent === undefined ? undefined : new Semaphore(options.maxConcurrent);
    this.#unlimited = this.#meters.length === 0 && rates.length === 0 && options.redis === undefined;

    const keyPrefix = `${options.keyPrefix}{${encodeURIComponent(options.provider)}}:`;
    const ledger = new Ledger({
      // With Redis the ledger only counts what this process spends while Redis is away.
      store: options.redis === undefined ? options.store : undefined,
      namespace: keyPrefix,
      now: options.now,
      timeoutMs: options.storageTimeoutMs,
      onStoreError: (error) => this.#storageError('store', error),
    });
    const local = new LocalBackend({ meters: this.#meters, rates, ledger, now: options.now });
    this.#backend =
      options.redis === undefined
        ? local
        : new SharedBackend({
            link: new RedisLink(options.redis, {
              timeoutMs: options.storageTimeoutMs,
              onError: (error) => this.#storageError('redis', error),
            }),
            meters: this.#meters,
            rates,
            fallback: local,
            keyPrefix,
            fallbackShare: options.fallbackShare,
            pauseCheckMs: options.pauseCheckMs,
            now: options.now,
            onModeChange: (mode, cause) => {
              const { provider } = this;
              const error = cause === undefined ? 'not-connected' : errorName(cause);
              this.#emit(mode === 'fallback' ? { type: 'quota.degraded', provider, error } : { type: 'quota.recovered', provider });
            },
          });
  }

  async acquire(request: AcquireOptions = {}): Promise<QuotaPermit> {
    if (this.#closed) throw new QuotaExhaustedError(`quota for ${this.provider} is closed`);
    this.#throwIfPaused();
    const { signal } = request;
    if (signal?.aborted === true) throw this.#abortedError(signal);
    if (this.#unlimited && this.#semaphore === undefined) return NO_WAIT_PERMIT;

    // Waits run on timers, so they are measured on the timers' clock rather than on `now`.
    const startedMs = Date.now();
    // Clamped to what a timer can hold: setTimeout fires at once for anything larger.
    const maxWaitMs = Math.min(Math.max(0, request.maxWaitMs ?? this.#options.maxWaitMs), MAX_TIMER_MS);
    const semaphore = this.#semaphore;
    if (semaphore !== undefined) {
      try {
        await semaphore.take(maxWaitMs, signal);
      } catch (error) {
        throw this.#slotError(error, signal);
      }
    }
    try {
      // A pause may have begun while this call waited for its slot.
      if (semaphore !== undefined) this.#throwIfPaused();
      if (!this.#unlimited) {
        const admission = await raceAbort(
          this.#backend.admit({
            highValue: request.highValue === true,
            costMicros: Math.max(0, Math.round((request.cost ?? this.#options.costPerCall ?? 0) * SPEND_SCALE)),
            maxWaitMs: Math.max(0, maxWaitMs - (Date.now() - startedMs)),
          }),
          signal,
        ).catch((error: unknown) => {
          throw signal?.aborted === true ? this.#abortedError(signal) : error;
        });
        const delayMs = this.#admittedDelay(admission);
        if (delayMs > 0) {
          await sleep(delayMs, signal).catch(() => Promise.reject(this.#abortedError(signal)));
          this.#throwIfPaused();
        }
      }
    } catch (error) {
      semaphore?.release();
      throw error;
    }
    return semaphore === undefined ? { waitedMs: Date.now() - startedMs, release: () => undefined } : permitFor(semaphore, startedMs);
  }

  observe(upstream: UpstreamLimits | undefined): Promise<void> {
    if (upstream === undefined) return Promise.resolve();
    const now = this.#options.now();
    this.#upstream = { ...upstream, observedAtMs: now };
    const pause = pauseFromUpstream(upstream, now);
    return pause === undefined ? Promise.resolve() : this.pause(pause.ms, pause.reason);
  }

  observeError(error: unknown): Promise<void> {
    const pause = pauseFromError(error, {
      rateLimitedPauseMs: this.#options.rateLimitedPauseMs,
      quotaExceededPauseMs: () => this.#untilPeriodResets(),
    });
    return pause === undefined ? Promise.resolve() : this.pause(pause.ms, pause.reason);
  }

  pause(ms: number, reason: PauseReason): Promise<void> {
    if (!(ms > 0) || this.#closed) return Promise.resolve();
    const untilMs = this.#options.now() + ms;
    if (this.#pause.extend(untilMs, reason)) this.#emit({ type: 'quota.paused', provider: this.provider, reason, untilMs });
    return this.#track(this.#backend.sharePause({ ms: Math.ceil(ms), reason }));
  }

  async snapshot(): Promise<QuotaSnapshot> {
    const reading = await this.#backend.read();
    const now = this.#options.now();
    if (reading.pause !== undefined) this.#pause.extend(now + reading.pause.ms, reading.pause.reason);
    const windows: QuotaWindowSnapshot[] = [];
    const spend: { daily?: number; monthly?: number } = {};
    for (const { meter, used, resetAtMs } of reading.meters) {
      const { period, unit, limit, reserve, rolling } = meter.spec;
      const scale = unit === 'spend' ? SPEND_SCALE : 1;
      if (unit === 'spend') spend[period] = used / scale;
      if (!Number.isFinite(limit)) continue;
      windows.push({
        period,
        unit,
        rolling,
        limit: limit / scale,
        used: used / scale,
        remaining: Math.max(0, limit - used) / scale,
        reserve: reserve / scale,
        resetAtMs,
      });
    }
    const paused = this.#pause.at(now);
    return {
      provider: this.provider,
      mode: this.#backend.mode,
      windows,
      spend,
      inFlight: this.#semaphore?.inUse ?? 0,
      waiting: this.#semaphore?.waiting ?? 0,
      ...(paused === undefined ? {} : { paused }),
      ...(this.#upstream === undefined ? {} : { upstream: this.#upstream }),
    };
  }

  ready(timeoutMs = 2_000): Promise<boolean> {
    return this.#backend.ready(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#semaphore?.close();
    await Promise.all(this.#background);
    await this.#backend.close();
  }

  /** Turns an admission into the delay before the call, or throws the refusal. */
  #admittedDelay(admission: Admission): number {
    switch (admission.kind) {
      case 'admitted':
        return admission.delayMs;
      case 'paused':
        this.#pause.extend(this.#options.now() + admission.ms, admission.reason);
        throw this.#pausedError(admission.ms, admission.reason);
      case 'rate-limited':
        throw new QuotaExhaustedError(`rate limit of ${this.provider} has no free slot soon enough`, {
          retryAfterMs: admission.waitMs,
        });
      case 'exhausted': {
        const { meter, resetAtMs, reserveOnly } = admission;
        const windowKey = `${meter.label}@${resetAtMs}`;
        if (!this.#exhaustedReported.has(windowKey)) {
          // One entry per meter and window: clearing now and then keeps the set small without repeating events.
          if (this.#exhaustedReported.size > 64) this.#exhaustedReported.clear();
          this.#exhaustedReported.add(windowKey);
          this.#emit({ type: 'quota.exhausted', provider: this.provider, window: meter.label, resetAtMs, reserveOnly });
        }
        const message = reserveOnly
          ? `${meter.label} quota of ${this.provider} is down to its reserve for high-value calls`
          : `${meter.label} quota of ${this.provider} is used up`;
        throw new QuotaExhaustedError(message, { retryAfterMs: Math.max(0, resetAtMs - this.#options.now()) });
      }
    }
  }

  #throwIfPaused(): void {
    const paused = this.#pause.at(this.#options.now());
    if (paused !== undefined) throw this.#pausedError(paused.untilMs - this.#options.now(), paused.reason);
  }

  #pausedError(ms: number, reason: PauseReason): QuotaExhaustedError {
    return new QuotaExhaustedError(`${this.provider} is paused (${reason})`, { retryAfterMs: Math.max(0, ms) });
  }

  #abortedError(signal: AbortSignal | undefined): QuotaExhaustedError {
    return new QuotaExhaustedError(`waiting for a slot of ${this.provider} was aborted`, { cause: signal?.reason });
  }

  #slotError(error: unknown, signal: AbortSignal | undefined): QuotaExhaustedError {
    if (error instanceof SlotRefusedError && error.reason === 'aborted') return this.#abortedError(signal);
    if (error instanceof SlotRefusedError && error.reason === 'closed') {
      return new QuotaExhaustedError(`quota for ${this.provider} is closed`);
    }
    return new QuotaExhaustedError(`all ${this.#semaphore?.max ?? 0} concurrent slots of ${this.provider} stayed busy`, {
      cause: error,
    });
  }

  /** For a quota-exceeded answer without Retry-After: until the shortest calendar quota resets. */
  #untilPeriodResets(): number {
    const now = this.#options.now();
    const calendarMeter = this.#meters.find((meter) => meter.spec.unit === 'calls' && !meter.spec.rolling);
    return calendarMeter === undefined ? this.#options.quotaExceededPauseMs : calendarMeter.planAt(now).resetAtMs - now;
  }

  #storageError(storage: 'redis' | 'store', error: unknown): void {
    const now = Date.now();
    if (now - this.#lastStorageErrorMs[storage] < STORAGE_ERROR_EVENT_INTERVAL_MS) return;
    this.#lastStorageErrorMs[storage] = now;
    this.#emit({ type: 'quota.storage-error', provider: this.provider, storage, error: errorName(error) });
  }

  #emit(event: QuotaEvent): void {
    try {
      this.#options.onEvent(event);
    } catch {
      // A failing listener must not fail the call that triggered the event.
    }
  }

  #track(operation: Promise<void>): Promise<void> {
    const tracked = operation.catch(() => undefined).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
    return tracked;
  }
}

function buildMeters(options: ResolvedQuotaOptions, calendar: Calendar): Meter[] {
  const meters: Meter[] = [];
  const add = (period: MeterPeriod, unit: MeterUnit, limitOptions: QuotaLimitOptions | undefined): void => {
    const scale = unit === 'spend' ? SPEND_SCALE : 1;
    const limit = limitOptions === undefined ? Number.POSITIVE_INFINITY : Math.round(limitOptions.limit * scale);
    const reserve = limitOptions === undefined ? 0 : Math.round(limit * (limitOptions.reserveShare ?? 0));
    meters.push(new Meter({ period, unit, limit, reserve, rolling: limitOptions?.rolling === true }, calendar));
  };
  if (options.daily !== undefined) add('daily', 'calls', options.daily);
  if (options.monthly !== undefined) add('monthly', 'calls', options.monthly);
  if (options.costPerCall !== undefined) {
    add('daily', 'spend', options.spendCap.daily);
    add('monthly', 'spend', options.spendCap.monthly);
  }
  return meters;
}

function permitFor(semaphore: Semaphore, startedMs: number): QuotaPermit {
  let released = false;
  return {
    waitedMs: Date.now() - startedMs,
    release() {
      if (released) return;
      released = true;
      semaphore.release();
    },
  };
}

/** Settles like `operation`, or rejects as soon as the signal aborts (the operation runs on). */
function raceAbort<T>(operation: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return operation;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    operation.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A name or code that says what failed without echoing a message (which may hold a URL or a key). */
function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
  return typeof name === 'string' ? name : 'unknown';
}
