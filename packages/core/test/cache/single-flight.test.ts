import { afterEach, describe, expect, it } from 'vitest';
import { createTieredCache, type TieredCache, type TieredCacheOptions } from '../../src/cache/index.js';
import { isTimeoutError } from '../../src/errors.js';
import { TEST_SECRET } from './helpers.js';

interface Answer {
  readonly score: number;
  readonly call: number;
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

/** An upstream whose answers the test releases by hand. */
function gatedUpstream(): { fetch: () => Promise<Answer>; calls: () => number; release: () => void; fail: (error: Error) => void } {
  let calls = 0;
  const gates: Array<{ resolve: (answer: Answer) => void; reject: (error: Error) => void }> = [];
  return {
    fetch: () => {
      const call = ++calls;
      return new Promise<Answer>((resolve, reject) => {
        gates.push({ resolve: () => resolve({ score: 0.3, call }), reject });
      });
    },
    calls: () => calls,
    release: () => gates.splice(0).forEach((gate) => gate.resolve({ score: 0.3, call: 0 })),
    fail: (error) => gates.splice(0).forEach((gate) => gate.reject(error)),
  };
}

describe('single-flight in one process', () => {
  it.each([
    ['L1 only', false as const],
    ['L1 + memory L2', { memory: {} }],
  ])('makes one upstream call for 200 concurrent lookups of one key (%s)', async (_label, l2) => {
    const cache = await open({ l2 });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    const upstream = gatedUpstream();

    const pending = Array.from({ length: 200 }, () => dnsbl.getOrFetch(key, upstream.fetch));
    await new Promise((resolve) => setTimeout(resolve, 20));
    upstream.release();
    const results = await Promise.all(pending);

    expect(upstream.calls()).toBe(1);
    expect(new Set(results.map((result) => result.value))).toHaveLength(1);
    expect(results.every((result) => result.status === 'fresh' && result.value.call === 1)).toBe(true);
    expect(cache.stats()).toMatchObject({ fetches: 1, coalesced: { local: 199 } });
  });

  it('makes one call even when the upstream answers at once', async () => {
    const cache = await open({ l2: { memory: {} } });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    let calls = 0;
    const instant = async (): Promise<Answer> => ({ score: 0, call: ++calls });
    await Promise.all(Array.from({ length: 200 }, () => dnsbl.getOrFetch(key, instant)));
    expect(calls).toBe(1);
  });

  it('gives every waiter the failure, and lets the next lookup try again', async () => {
    const cache = await open({ l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    const upstream = gatedUpstream();

    const pending = Array.from({ length: 50 }, () => dnsbl.getOrFetch(key, upstream.fetch).catch((error: Error) => error));
    await new Promise((resolve) => setImmediate(resolve));
    upstream.fail(new Error('upstream 500'));
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((outcome) => outcome instanceof Error && outcome.message === 'upstream 500')).toBe(true);
    expect(upstream.calls()).toBe(1);

    const retry = dnsbl.getOrFetch(key, upstream.fetch);
    await new Promise((resolve) => setImmediate(resolve));
    upstream.release();
    expect(await retry).toMatchObject({ status: 'fresh', value: { call: 2 } });
    expect(cache.stats()).toMatchObject({ fetches: 2, fetchFailures: 1 });
  });

  it('keeps separate keys separate', async () => {
    const cache = await open({ l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const upstream = gatedUpstream();
    const pending = ['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((ip) => dnsbl.getOrFetch(dnsbl.key(ip), upstream.fetch));
    await new Promise((resolve) => setImmediate(resolve));
    upstream.release();
    await Promise.all(pending);
    expect(upstream.calls()).toBe(3);
  });

  it('fills the cache with an answer that lands after every caller gave up', async () => {
    const cache = await open({ l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    const upstream = gatedUpstream();

    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => dnsbl.getOrFetch(key, upstream.fetch, { timeoutMs: 1 }).catch((error: unknown) => error)),
    );
    expect(outcomes.every(isTimeoutError)).toBe(true);
    expect(dnsbl.lookup(key)).toBeUndefined();

    upstream.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(dnsbl.lookup(key)).toMatchObject({ value: { call: 1 } });
    expect(cache.stats()).toMatchObject({ fetches: 1, lateFills: 10 });
  });

  it('does not write an answer whose fetch began before a purge', async () => {
    const cache = await open({ l2: false });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    const upstream = gatedUpstream();
    const pending = dnsbl.getOrFetch(key, upstream.fetch);
    await new Promise((resolve) => setImmediate(resolve));
    await cache.purge({ subject: { ip: '203.0.113.7' } });
    upstream.release();
    expect((await pending).status).toBe('fresh');
    expect(dnsbl.lookup(key)).toBeUndefined();
  });
});
