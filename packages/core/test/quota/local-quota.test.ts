import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { ProviderResponseError, isConfigurationError, isQuotaExhaustedError, type QuotaExhaustedError } from '../../src/errors.js';
import { createQuota, type Quota, type QuotaEvent, type QuotaOptions, type QuotaStore } from '../../src/quota/index.js';

/** A clock the test moves by hand. */
function manualClock(startMs: number): { now: () => number; set(ms: number): void; advance(ms: number): void } {
  let current = startMs;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Tries `count` calls one after another; returns how many were admitted and the last refusal. */
async function drain(quota: Quota, count: number, highValue = false): Promise<{ admitted: number; refusal?: QuotaExhaustedError }> {
  let admitted = 0;
  let refusal: QuotaExhaustedError | undefined;
  for (let index = 0; index < count; index += 1) {
    try {
      (await quota.acquire({ highValue })).release();
      admitted += 1;
    } catch (error) {
      if (!isQuotaExhaustedError(error)) throw error;
      refusal = error;
    }
  }
  return refusal === undefined ? { admitted } : { admitted, refusal };
}

describe('reserve for high-value calls', () => {
  it('keeps the last 20% of a daily quota for high-value calls', async () => {
    const events: QuotaEvent[] = [];
    const quota = createQuota({ provider: 'reserve', daily: { limit: 10, reserveShare: 0.2 }, onEvent: (event) => events.push(event) });

    const normal = await drain(quota, 12);
    expect(normal.admitted).toBe(8);
    expect(normal.refusal?.message).toContain('reserve');
    expect(events.filter((event) => event.type === 'quota.exhausted')).toMatchObject([{ window: 'daily calls', reserveOnly: true }]);

    const highValue = await drain(quota, 5, true);
    expect(highValue.admitted).toBe(2);
    expect(highValue.refusal?.message).toContain('used up');
    expect((await drain(quota, 1)).admitted).toBe(0);

    const [daily] = (await quota.snapshot()).windows;
    expect(daily).toMatchObject({ limit: 10, used: 10, remaining: 0, reserve: 2 });
    await quota.close();
  });
});

describe('window roll-over with a controllable clock', () => {
  it('starts a new daily count at local midnight in the configured zone, across a 23-hour DST day', async () => {
    // 2024-03-09 23:59:59.999 in New York (EST) is 04:59:59.999 UTC the next day.
    const clock = manualClock(Date.UTC(2024, 2, 10, 4, 59, 59, 999));
    const quota = createQuota({ provider: 'days', daily: { limit: 3 }, timeZone: 'America/New_York', now: clock.now });

    const saturday = await drain(quota, 4);
    expect(saturday.admitted).toBe(3);
    expect(saturday.refusal?.retryAfterMs).toBe(1);

    clock.advance(1); // Sunday 00:00 EST: a new day
    expect((await drain(quota, 4)).admitted).toBe(3);

    // Sunday has 23 hours: 03:59:59.999 UTC on Monday is still Sunday 23:59:59.999 EDT.
    clock.set(Date.UTC(2024, 2, 11, 3, 59, 59, 999));
    expect((await drain(quota, 1)).admitted).toBe(0);
    clock.set(Date.UTC(2024, 2, 11, 4, 0, 0, 0));
    expect((await drain(quota, 4)).admitted).toBe(3);
    await quota.close();
  });

  it('starts a new monthly count when the month ends in the configured zone', async () => {
    const clock = manualClock(Date.UTC(2024, 1, 1, 4, 30)); // still 31 January in New York
    const quota = createQuota({ provider: 'months', monthly: { limit: 2 }, timeZone: 'America/New_York', now: clock.now });
    expect((await drain(quota, 3)).admitted).toBe(2);
    const [january] = (await quota.snapshot()).windows;
    expect(new Date(january?.resetAtMs ?? 0).toISOString()).toBe('2024-02-01T05:00:00.000Z');

    clock.set(Date.UTC(2024, 1, 1, 5));
    expect((await drain(quota, 3)).admitted).toBe(2);
    await quota.close();
  });

  it('counts a rolling day over the last 24 hours (in hourly buckets, erring towards fewer calls)', async () => {
    const clock = manualClock(Date.UTC(2024, 5, 1, 10, 30));
    const quota = createQuota({ provider: 'rolling', daily: { limit: 4, rolling: true }, now: clock.now });
    expect((await drain(quota, 2)).admitted).toBe(2);
    clock.advance(6 * 3_600_000);
    expect((await drain(quota, 3)).admitted).toBe(2);

    clock.set(Date.UTC(2024, 5, 2, 10, 30)); // 24 h after the first two: their bucket still counts
    expect((await drain(quota, 1)).admitted).toBe(0);
    clock.set(Date.UTC(2024, 5, 2, 11, 0)); // their hour has left the window
    expect((await drain(quota, 3)).admitted).toBe(2);
    await quota.close();
  });
});

describe('spend', () => {
  it('accounts cost per day and month and stops at the spend cap', async () => {
    const quota = createQuota({ provider: 'paid', costPerCall: 0.25, spendCap: { daily: { limit: 1 } } });
    const spent = await drain(quota, 6);
    expect(spent.admitted).toBe(4);
    expect(spent.refusal?.message).toContain('daily spend');

    const snapshot = await quota.snapshot();
    expect(snapshot.spend).toEqual({ daily: 1, monthly: 1 });
    expect(snapshot.windows).toMatchObject([{ period: 'daily', unit: 'spend', limit: 1, used: 1, remaining: 0 }]);
    await quota.close();
  });

  it('takes a per-call cost over the default and keeps sums exact', async () => {
    const quota = createQuota({ provider: 'tenths', costPerCall: 0.1, spendCap: { monthly: { limit: 0.3 } } });
    expect((await drain(quota, 5)).admitted).toBe(3); // 0.1 + 0.1 + 0.1 is 0.3 here, not 0.30000000000000004
    await expect(quota.acquire({ cost: 0 })).resolves.toBeDefined();
    expect((await quota.snapshot()).spend.monthly).toBe(0.3);
    await quota.close();
  });
});

describe('upstream signals', () => {
  const start = Date.UTC(2024, 5, 1, 12);

  it('pauses until the reset the upstream announced when none are left, then resumes', async () => {
    const clock = manualClock(start);
    const quota = createQuota({ provider: 'ipapi', now: clock.now });
    await quota.observe({ remaining: 3, resetAtMs: start + 60_000 });
    expect((await drain(quota, 1)).admitted).toBe(1);
    expect((await quota.snapshot()).upstream).toEqual({ remaining: 3, resetAtMs: start + 60_000, observedAtMs: start });

    await quota.observe({ remaining: 0, resetAtMs: start + 30_000 });
    const paused = await drain(quota, 1);
    expect(paused.refusal?.retryAfterMs).toBe(30_000);
    expect((await quota.snapshot()).paused).toEqual({ untilMs: start + 30_000, reason: 'upstream-exhausted' });

    clock.advance(30_000);
    expect((await drain(quota, 1)).admitted).toBe(1);
    expect((await quota.snapshot()).paused).toBeUndefined();
    await quota.close();
  });

  it('pauses for Retry-After on a 429, for the default without one, and never shortens a pause', async () => {
    const clock = manualClock(start);
    const quota = createQuota({ provider: 'limited', now: clock.now, rateLimitedPauseMs: 1_500 });
    await quota.observeError(new ProviderResponseError('rate-limited', '429', { status: 429, retryAfterMs: 2_000 }));
    expect((await drain(quota, 1)).refusal?.retryAfterMs).toBe(2_000);
    await quota.observeError(new ProviderResponseError('rate-limited', '429', { status: 429 }));
    expect((await drain(quota, 1)).refusal?.retryAfterMs).toBe(2_000);
    clock.advance(2_000);
    await quota.observeError(new ProviderResponseError('rate-limited', '429', { status: 429 }));
    expect((await drain(quota, 1)).refusal?.retryAfterMs).toBe(1_500);
    await quota.close();
  });

  it('stops until the daily period resets on quota-exceeded, or for the long pause without a calendar quota', async () => {
    const clock = manualClock(Date.UTC(2024, 5, 1, 22)); // 18:00 in New York
    const withDaily = createQuota({ provider: 'openai', daily: { limit: 100 }, timeZone: 'America/New_York', now: clock.now });
    await withDaily.observeError(new ProviderResponseError('quota-exceeded', 'insufficient_quota', { status: 429 }));
    expect((await drain(withDaily, 1)).refusal?.retryAfterMs).toBe(6 * 3_600_000);

    const without = createQuota({ provider: 'openai2', quotaExceededPauseMs: 600_000, now: clock.now });
    await without.observeError(new ProviderResponseError('quota-exceeded', 'insufficient_quota', { status: 429 }));
    expect((await drain(without, 1)).refusal?.retryAfterMs).toBe(600_000);
    await Promise.all([withDaily.close(), without.close()]);
  });

  it('leaves every other failure to the breaker', async () => {
    const quota = createQuota({ provider: 'faults' });
    for (const error of [
      new ProviderResponseError('http', '503', { status: 503 }),
      new ProviderResponseError('auth', '401', { status: 401 }),
      new ProviderResponseError('invalid-input', '422', { status: 422 }),
      new Error('socket hang up'),
      'not even an error',
    ]) {
      await quota.observeError(error);
    }
    await quota.observe(undefined);
    await quota.observe({ remaining: 0 }); // no reset time: nothing to wait for
    expect((await drain(quota, 1)).admitted).toBe(1);
    await quota.close();
  });
});

describe('persistence in a Keyv store', () => {
  it('carries a half-used quota over to a new instance on the same store', async () => {
    const store = new Keyv();
    const options: QuotaOptions = { provider: 'restart', daily: { limit: 10 }, monthly: { limit: 100 }, store };
    const before = createQuota(options);
    expect((await drain(before, 5)).admitted).toBe(5);
    await before.close();

    const after = createQuota(options);
    expect((await after.snapshot()).windows.map((window) => window.used)).toEqual([5, 5]);
    expect((await drain(after, 10)).admitted).toBe(5);
    await after.close();
    expect((await createQuota(options).snapshot()).windows.map((window) => window.remaining)).toEqual([0, 90]);
  });

  it('carries a half-used quota over a restart on a SQLite file', async () => {
    const { default: KeyvSqlite } = await import('@keyv/sqlite');
    const file = join(mkdtempSync(join(tmpdir(), 'fs-quota-sqlite-')), 'quota.sqlite');
    const open = () => new Keyv({ store: new KeyvSqlite(`sqlite://${file}`) });
    const options = (store: QuotaStore): QuotaOptions => ({ provider: 'sqlite-restart', daily: { limit: 10 }, store });

    const firstStore = open();
    const before = createQuota(options(firstStore));
    expect((await drain(before, 4)).admitted).toBe(4);
    await before.close();
    await firstStore.disconnect();

    // A new store object on the same file, as after a process restart.
    const secondStore = open();
    const after = createQuota(options(secondStore));
    expect((await after.snapshot()).windows[0]).toMatchObject({ used: 4, remaining: 6 });
    expect((await drain(after, 10)).admitted).toBe(6);
    await after.close();
    await secondStore.disconnect();
  });

  it('keeps counting, without errors or long waits, when the store fails or hangs', async () => {
    const failing: QuotaStore = {
      get: () => Promise.reject(new Error('disk on fire')),
      set: () => Promise.reject(new Error('disk on fire')),
    };
    const hanging: QuotaStore = { get: () => new Promise(() => undefined), set: () => new Promise(() => undefined) };
    for (const store of [failing, hanging]) {
      const events: QuotaEvent[] = [];
      const quota = createQuota({ provider: 'broken-store', daily: { limit: 3 }, store, storageTimeoutMs: 20, onEvent: (event) => events.push(event) });
      expect((await drain(quota, 5)).admitted).toBe(3);
      expect(events).toContainEqual(expect.objectContaining({ type: 'quota.storage-error', storage: 'store' }));
      await quota.close();
    }
  });

  it('never writes back a count it could not read, so a store that recovers keeps the larger count', async () => {
    const inner = new Keyv();
    let broken = true;
    const flaky: QuotaStore = {
      get: (key) => (broken ? Promise.reject(new Error('offline')) : inner.get(key)),
      set: (key, value, ttl) => (broken ? Promise.reject(new Error('offline')) : inner.set(key, value, ttl)),
    };
    const first = createQuota({ provider: 'flaky', daily: { limit: 10 }, store: inner });
    expect((await drain(first, 6)).admitted).toBe(6);
    await first.close();

    const second = createQuota({ provider: 'flaky', daily: { limit: 10 }, store: flaky });
    expect((await drain(second, 1)).admitted).toBe(1); // counted from zero locally while the store is away
    broken = false;
    await second.close();
    expect((await createQuota({ provider: 'flaky', daily: { limit: 10 }, store: inner }).snapshot()).windows[0]?.used).toBe(6);
  });
});

describe('configuration', () => {
  it('names every wrong key and never echoes a Redis password', () => {
    let caught: unknown;
    try {
      createQuota({
        provider: 'bad',
        perSecond: 0,
        daily: { limit: 10, reserveShare: 1 },
        fallbackShare: 2,
        spendCap: { daily: { limit: 5 } },
        redis: { url: 'http://user:hunter2@example.org' },
      });
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    const message = (caught as Error).message;
    for (const key of ['perSecond', 'daily.reserveShare', 'fallbackShare', 'costPerCall', 'redis.url']) expect(message).toContain(`.${key}:`);
    expect(message).not.toContain('hunter2');
  });

  it('admits every call at once when no limit is configured', async () => {
    const quota = createQuota({ provider: 'free' });
    const permits = await Promise.all(Array.from({ length: 1_000 }, () => quota.acquire()));
    expect(permits.every((permit) => permit.waitedMs === 0)).toBe(true);
    expect(await quota.snapshot()).toMatchObject({ mode: 'local', windows: [], spend: {}, inFlight: 0 });
    await quota.close();
  });
});
