/**
 * Redis away: a closed port, a private redis-server killed by PID, one frozen with
 * SIGSTOP. Local limits with the fallback share apply, no error escapes, nothing hangs,
 * and what was spent meanwhile reaches Redis once it is back.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { isQuotaExhaustedError } from '../../src/errors.js';
import { createQuota, type Quota, type QuotaEvent } from '../../src/quota/index.js';
import { PrivateRedis, connect, freePort, uniquePrefix } from './support/redis.js';

/** Far above what any call should take, far below a hang. */
const NO_HANG_MS = 3_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Tries calls one after another; each must settle within NO_HANG_MS. */
async function attempt(quota: Quota, count: number): Promise<number> {
  let admitted = 0;
  for (let index = 0; index < count; index += 1) {
    const outcome = await Promise.race([
      quota.acquire({ maxWaitMs: 0 }).then(
        (permit) => {
          permit.release();
          return 'admitted' as const;
        },
        (error: unknown) => {
          if (!isQuotaExhaustedError(error)) throw error;
          return 'refused' as const;
        },
      ),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), NO_HANG_MS)),
    ]);
    expect(outcome).not.toBe('hung');
    if (outcome === 'admitted') admitted += 1;
  }
  return admitted;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Redis unreachable', () => {
  it('applies the fallback share of each limit when nothing listens on the port', async () => {
    const events: QuotaEvent[] = [];
    const quota = createQuota({
      provider: 'nobody-home',
      redis: { url: `redis://127.0.0.1:${await freePort()}` },
      daily: { limit: 10 },
      perSecond: 4,
      fallbackShare: 0.5,
      onEvent: (event) => events.push(event),
    });
    cleanups.push(() => quota.close());

    // perSecond 4 × 0.5 = 2 per second locally; with no waiting allowed the third call in the second is refused.
    expect(await attempt(quota, 3)).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    // daily 10 × 0.5 = 5 locally: three more over the next seconds, then the quota is done.
    expect(await attempt(quota, 2)).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect(await attempt(quota, 2)).toBe(1);

    const snapshot = await quota.snapshot();
    expect(snapshot.mode).toBe('fallback');
    expect(snapshot.windows[0]).toMatchObject({ used: 5, remaining: 5 });
    expect(events.map((event) => event.type)).toContain('quota.degraded');
    expect(await quota.ready(100)).toBe(false);
  });

  it('falls back when its server is killed, and hands what it spent to Redis when it returns', async () => {
    const server = await PrivateRedis.start();
    cleanups.push(() => server.kill());
    const keyPrefix = uniquePrefix();
    const events: QuotaEvent[] = [];
    const quota = createQuota({
      provider: 'killed',
      redis: { url: server.url },
      keyPrefix,
      daily: { limit: 100 },
      fallbackShare: 0.1,
      onEvent: (event) => events.push(event),
    });
    cleanups.push(() => quota.close());
    expect(await quota.ready()).toBe(true);
    expect(await attempt(quota, 20)).toBe(20);

    await server.kill();
    // 10% of the 80 left when Redis was last seen.
    expect(await attempt(quota, 12)).toBe(8);
    expect((await quota.snapshot()).mode).toBe('fallback');

    await server.restart(); // empty: no persistence
    await until(async () => (await attempt(quota, 1)) === 1 && (await quota.snapshot()).mode === 'shared');
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['quota.degraded', 'quota.recovered']));

    const client = await connect(server.url);
    const stored = await client.get(`${keyPrefix}{killed}:calls:day:${new Date().toISOString().slice(0, 10)}`);
    client.destroy();
    // The 8 calls made during the outage, plus the one that found Redis back.
    expect(Number(stored)).toBe(9);
  });

  it('gives up on a frozen server after the operation timeout and stops asking it for a while', async () => {
    const server = await PrivateRedis.start();
    cleanups.push(async () => {
      server.thaw();
      await server.kill();
    });
    const quota = createQuota({
      provider: 'frozen',
      redis: { url: server.url },
      keyPrefix: uniquePrefix(),
      daily: { limit: 100 },
      storageTimeoutMs: 200,
      fallbackShare: 0.5,
    });
    cleanups.push(() => quota.close());
    expect(await quota.ready()).toBe(true);
    expect(await attempt(quota, 2)).toBe(2);

    server.freeze();
    expect(await attempt(quota, 10)).toBe(10);
    expect((await quota.snapshot()).mode).toBe('fallback');

    server.thaw();
    await until(async () => (await attempt(quota, 1)) === 1 && (await quota.snapshot()).mode === 'shared');
  });
});
