import { Keyv } from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { createTieredCache, HOUR_MS, type CacheEntry, type TieredCache, type TieredCacheOptions } from '../../src/cache/index.js';
import { CircuitOpenError, QuotaExhaustedError, TimeoutError, isTimeoutError } from '../../src/errors.js';
import { manualClock, TEST_SECRET } from './helpers.js';

interface Answer {
  readonly score: number;
  readonly n?: number;
}

const opened: TieredCache[] = [];
async function open(options: Partial<TieredCacheOptions> = {}): Promise<TieredCache> {
  const cache = createTieredCache({ secret: TEST_SECRET, ...options });
  opened.push(cache);
  await cache.ready();
  return cache;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});

function counter(score = 0.5): { fetch: () => Promise<Answer>; calls: () => number } {
  let calls = 0;
  return {
    fetch: async () => ({ score, n: ++calls }),
    calls: () => calls,
  };
}

describe('lifetimes (controllable clock)', () => {
  it('serves a value as cached until its TTL, then fetches again', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: HOUR_MS });
    const key = dnsbl.key('203.0.113.7');
    const upstream = counter();

    expect(await dnsbl.getOrFetch(key, upstream.fetch)).toMatchObject({ status: 'fresh', value: { n: 1 }, ageMs: 0 });
    clock.advance(HOUR_MS - 1);
    expect(await dnsbl.getOrFetch(key, upstream.fetch)).toEqual({ status: 'cached', value: { score: 0.5, n: 1 }, ageMs: HOUR_MS - 1 });
    clock.advance(1);
    expect(await dnsbl.getOrFetch(key, upstream.fetch)).toMatchObject({ status: 'fresh', value: { n: 2 } });
    expect(upstream.calls()).toBe(2);
    expect(cache.stats().l1).toMatchObject({ hits: 1, misses: 2 });
  });

  it('applies the same lifetimes to what another instance reads from L2', async () => {
    const clock = manualClock();
    const shared = new Keyv();
    const writer = await open({ now: clock.now, l2: shared });
    const reader = await open({ now: clock.now, l2: shared });
    const options = { name: 'dnsbl', ttlMs: HOUR_MS };
    const key = writer.forProvider<Answer>(options).key('203.0.113.7');
    await writer.forProvider<Answer>(options).getOrFetch(key, counter().fetch);
    await new Promise((resolve) => setTimeout(resolve, 10));

    const readerDnsbl = reader.forProvider<Answer>(options);
    clock.advance(HOUR_MS / 2);
    expect(await readerDnsbl.getOrFetch(key, counter().fetch)).toMatchObject({ status: 'cached', ageMs: HOUR_MS / 2 });
    expect(reader.stats().l2.hits).toBe(1);
    clock.advance(HOUR_MS / 2);
    const late = counter(0.9);
    expect(await readerDnsbl.getOrFetch(key, late.fetch)).toMatchObject({ status: 'fresh', value: { score: 0.9 } });
    expect(late.calls()).toBe(1);
  });

  it('hands out a stale value with its age when the fetch fails within grace, and not after', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: HOUR_MS, graceMs: 2 * HOUR_MS });
    const key = dnsbl.key('203.0.113.7');
    await dnsbl.getOrFetch(key, counter().fetch);

    const failures = [new Error('upstream 503'), new CircuitOpenError('dnsbl'), new QuotaExhaustedError('daily quota spent')];
    clock.advance(HOUR_MS + 1);
    for (const failure of failures) {
      const result = await dnsbl.getOrFetch(key, () => Promise.reject(failure));
      expect(result).toEqual({ status: 'stale', value: { score: 0.5, n: 1 }, ageMs: HOUR_MS + 1, cause: failure });
    }
    expect(cache.stats().staleServes).toBe(3);

    clock.advance(2 * HOUR_MS);
    await expect(dnsbl.getOrFetch(key, () => Promise.reject(new Error('still down')))).rejects.toThrow('still down');
    expect(cache.stats().staleServes).toBe(3);
  });

  it('refuses stale values when the caller does not accept them', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: HOUR_MS });
    const key = dnsbl.key('203.0.113.7');
    await dnsbl.getOrFetch(key, counter().fetch);
    clock.advance(HOUR_MS);
    await expect(dnsbl.getOrFetch(key, () => Promise.reject(new Error('down')), { acceptStale: false })).rejects.toThrow('down');
  });

  it('serves stale at the deadline, and the late answer still fills the cache', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: HOUR_MS });
    const key = dnsbl.key('203.0.113.7');
    await dnsbl.getOrFetch(key, counter().fetch);
    clock.advance(HOUR_MS + 5);

    let land: (answer: Answer) => void = () => undefined;
    const slow = new Promise<Answer>((resolve) => {
      land = resolve;
    });
    const deadline = new AbortController();
    const pending = dnsbl.getOrFetch(key, () => slow, { signal: deadline.signal });
    deadline.abort();
    const result = await pending;
    expect(result).toMatchObject({ status: 'stale', value: { n: 1 }, ageMs: HOUR_MS + 5 });
    expect(isTimeoutError(result.cause)).toBe(true);

    land({ score: 0.1, n: 2 });
    await slow;
    await new Promise((resolve) => setImmediate(resolve));
    expect(await dnsbl.getOrFetch(key, counter().fetch)).toMatchObject({ status: 'cached', value: { n: 2 } });
    expect(cache.stats().lateFills).toBe(1);
  });

  it('throws a TimeoutError at the deadline when there is nothing stale', async () => {
    const cache = await open({ l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const never = new Promise<Answer>(() => undefined);
    await expect(dnsbl.getOrFetch(dnsbl.key('203.0.113.9'), () => never, { timeoutMs: 5 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('keeps negative answers for their own, shorter TTL', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: 24 * HOUR_MS, negativeTtlMs: HOUR_MS });
    const clean = dnsbl.key('203.0.113.1');
    const listed = dnsbl.key('203.0.113.2');
    const notListed = counter(0);
    const isListed = counter(0.8);
    await dnsbl.getOrFetch(clean, notListed.fetch);
    await dnsbl.getOrFetch(listed, isListed.fetch);

    clock.advance(HOUR_MS);
    expect((await dnsbl.getOrFetch(clean, notListed.fetch)).status).toBe('fresh');
    expect((await dnsbl.getOrFetch(listed, isListed.fetch)).status).toBe('cached');
    expect([notListed.calls(), isListed.calls()]).toEqual([2, 1]);
  });

  it('uses a custom negativity test', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const geo = cache.forProvider<{ country: string }>({
      name: 'geo',
      negativeTtlMs: 1_000,
      isNegative: (value) => value.country === 'unknown',
    });
    const entry = geo.set(geo.key('203.0.113.3'), { country: 'unknown' });
    expect(entry.freshUntil - entry.fetchedAt).toBe(1_000);
    expect(entry.staleUntil - entry.freshUntil).toBe(7 * 24 * HOUR_MS);
  });

  it('takes lifetimes a provider does not set from the cache-wide defaults', async () => {
    const cache = await open({ l2: false, defaults: { ttlMs: 60_000, graceMs: 0, negativeTtlMs: 10_000 } });
    const plain = cache.forProvider<Answer>({ name: 'plain' });
    const own = cache.forProvider<Answer>({ name: 'own', ttlMs: 5 * 60_000 });
    expect(plain.policy).toMatchObject({ ttlMs: 60_000, graceMs: 0, negativeTtlMs: 10_000 });
    expect(own.policy).toMatchObject({ ttlMs: 5 * 60_000, graceMs: 0, negativeTtlMs: 10_000 });
    const entry = plain.set(plain.key('203.0.113.4'), { score: 0.4 });
    expect([entry.freshUntil - entry.fetchedAt, entry.staleUntil - entry.freshUntil]).toEqual([60_000, 0]);
  });

  it('refreshes a value near expiry in the background while serving it', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const minute = 60_000;
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: 10 * minute, staleWhileRevalidateMs: 2 * minute });
    const key = dnsbl.key('203.0.113.7');
    const upstream = counter();
    await dnsbl.getOrFetch(key, upstream.fetch);

    clock.advance(7 * minute);
    expect(await dnsbl.getOrFetch(key, upstream.fetch)).toMatchObject({ status: 'cached', value: { n: 1 } });
    expect(upstream.calls()).toBe(1);

    clock.advance(2 * minute);
    const first = dnsbl.lookup(key);
    expect(first).not.toBeInstanceOf(Promise);
    expect(dnsbl.freshness(first as CacheEntry<Answer>)).toBe('refresh');
    expect(await dnsbl.getOrFetch(key, upstream.fetch)).toMatchObject({ status: 'cached', value: { n: 1 } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(upstream.calls()).toBe(2);
    expect(cache.stats().refreshes).toBe(1);
    expect(await dnsbl.getOrFetch(key, upstream.fetch)).toMatchObject({ status: 'cached', value: { n: 2 }, ageMs: 0 });
  });

  it('treats an entry of another schema version as a miss', async () => {
    const shared = new Keyv();
    const older = await open({ l2: shared, schemaVersion: 1 });
    const newer = await open({ l2: shared, schemaVersion: 2 });
    const key = older.forProvider<Answer>({ name: 'dnsbl' }).key('203.0.113.7');
    older.forProvider<Answer>({ name: 'dnsbl' }).set(key, { score: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await shared.get(key)).toMatchObject({ v: 1 });

    const dnsbl = newer.forProvider<Answer>({ name: 'dnsbl' });
    expect(await dnsbl.lookup(key)).toBeUndefined();
    expect(newer.stats().l2).toMatchObject({ schemaMismatches: 1, misses: 1, hits: 0 });
    expect(await older.forProvider<Answer>({ name: 'dnsbl' }).lookup(key)).toMatchObject({ value: { score: 1 } });
  });
});

describe('L1', () => {
  it('answers a hit synchronously, without touching L2', async () => {
    const cache = await open();
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    const miss = dnsbl.lookup(key);
    expect(miss).toBeInstanceOf(Promise);
    expect(await miss).toBeUndefined();
    dnsbl.set(key, { score: 0 });
    const hit = dnsbl.lookup(key);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toMatchObject({ value: { score: 0 } });
    expect(cache.stats().l2.hits + cache.stats().l2.misses).toBe(1);
  });

  it('is bounded by entries and by bytes', async () => {
    const cache = await open({ l2: false, l1: { maxEntries: 3, maxBytes: 4_096 } });
    const dnsbl = cache.forProvider<{ text: string }>({ name: 'dnsbl' });
    for (let i = 0; i < 5; i++) dnsbl.set(dnsbl.key(`10.0.0.${i}`), { text: 'x' });
    expect(cache.stats().l1).toMatchObject({ entries: 3, evictions: 2 });
    expect(dnsbl.lookup(dnsbl.key('10.0.0.0'))).toBeUndefined();

    dnsbl.set(dnsbl.key('10.0.1.1'), { text: 'y'.repeat(1_500) });
    expect(cache.stats().l1.bytes).toBeLessThanOrEqual(4_096);
    dnsbl.set(dnsbl.key('10.0.1.2'), { text: 'z'.repeat(5_000) });
    expect(dnsbl.lookup(dnsbl.key('10.0.1.2'))).toBeUndefined();
  });

  it('hands back an answer that cannot be serialised, without caching it', async () => {
    const cache = await open({ l2: false });
    const odd = cache.forProvider<{ big: bigint }>({ name: 'odd' });
    const key = odd.key('203.0.113.7');
    expect(await odd.getOrFetch(key, async () => ({ big: 1n }))).toMatchObject({ status: 'fresh', value: { big: 1n } });
    expect(odd.lookup(key)).toBeUndefined();
    expect(cache.stats().uncacheable).toBe(1);
  });
});

describe('keys of a provider', () => {
  it('combine every facet the answer depends on, in order, and know an entry’s age', async () => {
    const clock = manualClock();
    const cache = await open({ now: clock.now, l2: false });
    const sfs = cache.forProvider<Answer>({ name: 'sfs', facet: 'email' });
    const ipOnly = sfs.keyFor({ ip: '203.0.113.7' }, ['ip', 'email']);
    const both = sfs.keyFor({ ip: '203.0.113.7', email: 'a@example.org' }, ['ip', 'email']);
    expect(ipOnly).toBe(sfs.keyFor({ ip: '203.0.113.7' }, ['ip']));
    expect(both?.startsWith(`${ipOnly}.`)).toBe(true);
    expect(sfs.keyFor({ email: 'a@example.org' })).toBe(sfs.key('a@example.org'));
    expect(sfs.keyFor({ ip: '203.0.113.7' })).toBeUndefined();
    expect(sfs.keyFor({ fields: { website: 'x' } }, ['fields'])).toBeUndefined();

    const entry = sfs.set(both ?? '', { score: 0 });
    clock.advance(1_234);
    expect(sfs.ageOf(entry)).toBe(1_234);
  });
});

describe('configuration', () => {
  it('names every wrong key', () => {
    expect(() =>
      createTieredCache({
        secret: TEST_SECRET,
        namespace: 'bad namespace*',
        l1: { maxEntries: 0 },
        l2TimeoutMs: -1,
      }),
    ).toThrow(/cache\.namespace[\s\S]*cache\.l1\.maxEntries[\s\S]*cache\.l2TimeoutMs/);
  });

  it('rejects impossible lifetimes', async () => {
    const cache = await open({ l2: false });
    expect(() => cache.forProvider({ name: 'dnsbl', ttlMs: 1_000, staleWhileRevalidateMs: 1_000 })).toThrow(
      /staleWhileRevalidateMs/,
    );
    expect(() => cache.forProvider({ name: 'dns bl' })).toThrow(/cache\.provider\.name/);
  });
});
