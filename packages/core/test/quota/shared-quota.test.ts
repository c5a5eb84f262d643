/** Quotas shared over the real Redis at 127.0.0.1:6379, within one test process. */

import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQuotaExhaustedError } from '../../src/errors.js';
import { createQuota, type Quota, type QuotaOptions } from '../../src/quota/index.js';
import { SHARED_REDIS_URL, connect, keysUnder, removeKeys, uniquePrefix, type TestRedisClient } from './support/redis.js';

let redis: TestRedisClient;
const prefixes: string[] = [];
const quotas: Quota[] = [];

beforeAll(async () => {
  redis = await connect();
});

afterAll(async () => {
  await Promise.all(quotas.map((quota) => quota.close()));
  for (const prefix of prefixes) await removeKeys(redis, prefix);
  redis.destroy();
});

function sharedOptions(overrides: Partial<QuotaOptions> & { provider: string }): QuotaOptions {
  const keyPrefix = uniquePrefix();
  prefixes.push(keyPrefix);
  return { redis: { url: SHARED_REDIS_URL }, keyPrefix, storageTimeoutMs: 2_000, ...overrides };
}

async function open(options: QuotaOptions): Promise<Quota> {
  const quota = createQuota(options);
  quotas.push(quota);
  expect(await quota.ready()).toBe(true);
  return quota;
}

async function admittedOf(quota: Quota, attempts: number, highValue = false): Promise<number> {
  const results = await Promise.allSettled(Array.from({ length: attempts }, () => quota.acquire({ highValue })));
  for (const result of results) if (result.status === 'rejected') expect(isQuotaExhaustedError(result.reason)).toBe(true);
  return results.filter((result) => result.status === 'fulfilled').length;
}

describe('restart', () => {
  it('continues a half-used quota in a new instance on the same Redis', async () => {
    const options = sharedOptions({ provider: 'restart', daily: { limit: 10 } });
    const before = await open(options);
    expect(await admittedOf(before, 5)).toBe(5);
    await before.close();

    const after = await open(options);
    expect((await after.snapshot()).windows[0]).toMatchObject({ used: 5, remaining: 5 });
    expect(await admittedOf(after, 10)).toBe(5);
  });

  it('continues a half-used quota from a Keyv store backed by Redis (no shared mode)', async () => {
    const namespace = uniquePrefix().slice(0, -1);
    const keyv = (): Keyv => new Keyv({ store: new KeyvRedis(SHARED_REDIS_URL), namespace });
    const options = (store: Keyv): QuotaOptions => ({ provider: 'keyv-redis', daily: { limit: 10 }, store, storageTimeoutMs: 2_000 });
    const firstStore = keyv();
    const before = createQuota(options(firstStore));
    expect(await admittedOf(before, 5)).toBe(5);
    await before.close();
    await firstStore.disconnect();

    const secondStore = keyv();
    const after = createQuota(options(secondStore));
    expect(await admittedOf(after, 10)).toBe(5);
    await after.close();
    await secondStore.clear();
    await secondStore.disconnect();
  });
});

describe('shared limits', () => {
  it('keeps the reserve for high-value calls across instances', async () => {
    const options = sharedOptions({ provider: 'reserve', daily: { limit: 20, reserveShare: 0.25 } });
    const [one, two] = [await open(options), await open(options)] as const;
    const normal = await Promise.all([admittedOf(one, 20), admittedOf(two, 20)]);
    expect(normal[0] + normal[1]).toBe(15);
    const highValue = await Promise.all([admittedOf(one, 10, true), admittedOf(two, 10, true)]);
    expect(highValue[0] + highValue[1]).toBe(5);
  });

  it('spreads a burst from two instances over the shared per-second limit', async () => {
    const options = sharedOptions({ provider: 'rate', perSecond: 5, maxWaitMs: 1_500 });
    const [one, two] = [await open(options), await open(options)] as const;
    const attempts = (quota: Quota) => Array.from({ length: 10 }, () => quota.acquire());
    const results = await Promise.allSettled([...attempts(one), ...attempts(two)]);

    // Five slots now, five one second later; the next five would be two seconds away, beyond the 1.5 s allowed.
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      expect(isQuotaExhaustedError(result.reason)).toBe(true);
      expect(result.reason.retryAfterMs).toBeGreaterThan(1_500);
      expect(result.reason.retryAfterMs).toBeLessThanOrEqual(2_000);
    }
  });

  it('shows usage and pauses of the other instances in a snapshot', async () => {
    const options = sharedOptions({ provider: 'snap', daily: { limit: 50 }, costPerCall: 0.01 });
    const [one, two] = [await open(options), await open(options)] as const;
    expect(await admittedOf(one, 7)).toBe(7);
    await one.pause(60_000, 'quota-exceeded');

    const snapshot = await two.snapshot();
    expect(snapshot.mode).toBe('shared');
    expect(snapshot.windows[0]).toMatchObject({ used: 7, remaining: 43 });
    expect(snapshot.spend).toEqual({ daily: 0.07, monthly: 0.07 });
    expect(snapshot.paused?.reason).toBe('quota-exceeded');
    await expect(two.acquire()).rejects.toSatisfy(isQuotaExhaustedError);
  });

  it('works on a client the application owns, and leaves it open on close', async () => {
    const client = await connect();
    const options = { ...sharedOptions({ provider: 'borrowed', daily: { limit: 3 } }), redis: client };
    const quota = await open(options);
    expect(await admittedOf(quota, 5)).toBe(3);
    await quota.close();
    expect(client.isReady).toBe(true);
    expect(await client.ping()).toBe('PONG');
    client.destroy();
  });

  it('keeps every key under the provider hash tag, with an expiry, and nothing about the subject', async () => {
    const options = sharedOptions({ provider: 'hygiene', perMinute: 100, daily: { limit: 100 }, monthly: { limit: 1_000 }, costPerCall: 0.5 });
    const quota = await open(options);
    await admittedOf(quota, 3);
    await quota.pause(5_000, 'rate-limited');

    const keys = await keysUnder(redis, options.keyPrefix as string);
    const relative = keys.map((key) => key.slice((options.keyPrefix as string).length));
    const day = new Date().toISOString().slice(0, 10);
    expect(relative).toEqual(
      [
        `{hygiene}:calls:day:${day}`,
        `{hygiene}:calls:month:${day.slice(0, 7)}`,
        '{hygiene}:pause',
        '{hygiene}:rate:100/60000ms',
        `{hygiene}:spend:day:${day}`,
        `{hygiene}:spend:month:${day.slice(0, 7)}`,
      ].sort(),
    );
    for (const key of keys) expect(await redis.pTTL(key)).toBeGreaterThan(0);
    expect(Number(await redis.get(keys.find((key) => key.includes(':spend:day:')) as string))).toBe(1_500_000);
  });
});
