import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isQuotaExhaustedError } from '../../src/errors.js';
import { createQuota, type QuotaPermit } from '../../src/quota/index.js';
import { RateLog } from '../../src/quota/rate-log.js';

/** Settles a promise into a value or an error, so a test can look at either without unhandled rejections. */
function settle<T>(promise: Promise<T>): { readonly result: { value?: T; error?: unknown; done: boolean } } {
  const result: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(result, { value, done: true }),
    (error: unknown) => Object.assign(result, { error, done: true }),
  );
  return { result };
}

describe('rate smoothing (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2024, 5, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spreads a burst over the windows instead of refusing it', async () => {
    const quota = createQuota({ provider: 'smooth', perSecond: 5, maxWaitMs: 5_000 });
    const started = Date.now();
    const grantedAt: number[] = [];
    const calls = Array.from({ length: 12 }, () => quota.acquire().then(() => grantedAt.push(Date.now() - started)));

    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(calls);
    expect(grantedAt).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000, 2000, 2000]);
    await quota.close();
  });

  it('refuses at once, with the wait it would need, a call whose slot lies beyond its patience', async () => {
    const quota = createQuota({ provider: 'patience', perSecond: 5 });
    const first = Array.from({ length: 10 }, () => settle(quota.acquire({ maxWaitMs: 1_500 })));
    const late = settle(quota.acquire({ maxWaitMs: 1_500 }));
    await vi.advanceTimersByTimeAsync(0);

    expect(late.result.done).toBe(true);
    expect(isQuotaExhaustedError(late.result.error)).toBe(true);
    expect((late.result.error as { retryAfterMs?: number }).retryAfterMs).toBe(2_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(first.every(({ result }) => result.done && result.error === undefined)).toBe(true);
    await quota.close();
  });

  it('honours the per-second and the per-minute limit together', async () => {
    const quota = createQuota({ provider: 'both', perSecond: 2, perMinute: 3, maxWaitMs: 120_000 });
    const started = Date.now();
    const grantedAt: number[] = [];
    const calls = Array.from({ length: 5 }, () => quota.acquire().then(() => grantedAt.push(Date.now() - started)));
    await vi.advanceTimersByTimeAsync(120_000);
    await Promise.all(calls);
    expect(grantedAt).toEqual([0, 0, 1_000, 60_000, 60_000]);
    await quota.close();
  });

  it('ends a wait for a slot when the caller aborts, with QuotaExhaustedError', async () => {
    const quota = createQuota({ provider: 'abort', perSecond: 1, maxWaitMs: 10_000 });
    await quota.acquire();
    const controller = new AbortController();
    const waiting = settle(quota.acquire({ signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(100);
    expect(waiting.result.done).toBe(false);
    controller.abort(new Error('deadline'));
    await vi.advanceTimersByTimeAsync(0);
    expect(isQuotaExhaustedError(waiting.result.error)).toBe(true);
    await quota.close();
  });
});

describe('the sliding log behind rate limits', () => {
  it('never books more than `limit` calls in any window, whatever the arrivals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 3_000 })), { maxLength: 80 }),
        (limit, windowMs, arrivals) => {
          const log = new RateLog(limit, windowMs);
          const booked: number[] = [];
          let now = 0;
          for (const [gapMs, maxWaitMs] of arrivals) {
            now += gapMs;
            const slot = log.earliestSlot(now);
            expect(slot).toBeGreaterThanOrEqual(now);
            if (slot - now > maxWaitMs) continue;
            log.book(slot);
            booked.push(slot);
          }
          for (let index = limit; index < booked.length; index += 1) {
            expect((booked[index] as number) - (booked[index - limit] as number)).toBeGreaterThanOrEqual(windowMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('grants a lowered limit (the fallback share) no more than that many per window', () => {
    const log = new RateLog(10, 1_000);
    const booked: number[] = [];
    for (let index = 0; index < 9; index += 1) {
      const slot = log.earliestSlot(0, 3);
      log.book(slot);
      booked.push(slot);
    }
    expect(booked).toEqual([0, 0, 0, 1_000, 1_000, 1_000, 2_000, 2_000, 2_000]);
  });
});

describe('concurrency', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2024, 5, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets at most maxConcurrent calls run; the next waits for a release, first come first served', async () => {
    const quota = createQuota({ provider: 'pool', maxConcurrent: 2 });
    const first = await quota.acquire();
    const second = await quota.acquire();
    const third = settle(quota.acquire());
    const fourth = settle(quota.acquire());
    await vi.advanceTimersByTimeAsync(10);
    expect(third.result.done).toBe(false);
    expect((await quota.snapshot()).inFlight).toBe(2);
    expect((await quota.snapshot()).waiting).toBe(2);

    first.release();
    first.release(); // a second release of the same permit frees nothing more
    await vi.advanceTimersByTimeAsync(0);
    expect(third.result.done).toBe(true);
    expect(fourth.result.done).toBe(false);

    second.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(fourth.result.done).toBe(true);
    (third.result.value as QuotaPermit).release();
    (fourth.result.value as QuotaPermit).release();
    expect((await quota.snapshot()).inFlight).toBe(0);
    await quota.close();
  });

  it('gives up at maxWaitMs and frees nothing it did not take', async () => {
    const quota = createQuota({ provider: 'busy', maxConcurrent: 1 });
    const held = await quota.acquire();
    const waiting = settle(quota.acquire({ maxWaitMs: 50 }));
    await vi.advanceTimersByTimeAsync(49);
    expect(waiting.result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(isQuotaExhaustedError(waiting.result.error)).toBe(true);
    expect((await quota.snapshot()).inFlight).toBe(1);
    held.release();
    expect((await quota.snapshot()).inFlight).toBe(0);
    await quota.close();
  });

  it('releases the slot when a call is refused after getting one', async () => {
    const quota = createQuota({ provider: 'refused', maxConcurrent: 1, daily: { limit: 1 } });
    (await quota.acquire()).release();
    await expect(quota.acquire()).rejects.toSatisfy(isQuotaExhaustedError);
    expect((await quota.snapshot()).inFlight).toBe(0);
    await quota.close();
  });

  it('refuses waiting and later calls once closed', async () => {
    const quota = createQuota({ provider: 'closing', maxConcurrent: 1 });
    await quota.acquire();
    const waiting = settle(quota.acquire());
    await quota.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(isQuotaExhaustedError(waiting.result.error)).toBe(true);
    await expect(quota.acquire()).rejects.toSatisfy(isQuotaExhaustedError);
  });
});
