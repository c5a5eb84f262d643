import { Keyv } from 'keyv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTieredCache, type TieredCache, type TieredCacheOptions } from '../../src/cache/index.js';
import { BoundedMap } from '../../src/cache/l2-backends.js';
import { eventually, TEST_SECRET } from './helpers.js';

interface Answer {
  readonly score: number;
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

async function fill(cache: TieredCache): Promise<{ dnsbl: string; geo: string; other: string }> {
  const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
  const geo = cache.forProvider<Answer>({ name: 'geo' });
  const keys = { dnsbl: dnsbl.key('203.0.113.1'), geo: geo.key('203.0.113.1'), other: dnsbl.key('203.0.113.2') };
  dnsbl.set(keys.dnsbl, { score: 0 });
  geo.set(keys.geo, { score: 0 });
  dnsbl.set(keys.other, { score: 0 });
  expect(await eventually(() => cache.stats().l2.writes === 3)).toBe(true);
  return keys;
}

describe('memory and custom Keyv L2', () => {
  it('is the default, and purges a subject from both tiers', async () => {
    const cache = await open();
    expect(cache.health()).toEqual({ l2: 'up', backend: 'memory', crossInstance: false });
    const keys = await fill(cache);
    expect(await cache.purge({ subject: { ip: '203.0.113.1' } })).toEqual({ l1Removed: 2, l2: 'done', l2Removed: 2, broadcast: 'none' });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    expect(await dnsbl.lookup(keys.dnsbl)).toBeUndefined();
    expect(dnsbl.lookup(keys.other)).toMatchObject({ value: { score: 0 } });
  });

  it('reads an entry back from the memory L2 without arming a timer', async () => {
    const cache = await open({ l1: { maxEntries: 1 } });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const first = dnsbl.key('203.0.113.1');
    dnsbl.set(first, { score: 0.5 });
    dnsbl.set(dnsbl.key('203.0.113.2'), { score: 0 });
    expect(await eventually(() => cache.stats().l2.writes === 2)).toBe(true);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      const found = dnsbl.lookup(first);
      expect(found).toBeInstanceOf(Promise);
      expect(await found).toMatchObject({ value: { score: 0.5 } });
      expect(timers).not.toHaveBeenCalled();
    } finally {
      timers.mockRestore();
    }
  });

  it('removes only what a store without a key listing can address, and says so', async () => {
    const plain = new Map<string, unknown>();
    // A store Keyv cannot iterate: not a Map instance, no iterator.
    const store = {
      get: async (key: string) => plain.get(key),
      set: async (key: string, value: unknown) => void plain.set(key, value),
      delete: async (key: string) => plain.delete(key),
      clear: async () => plain.clear(),
      on: () => store,
      opts: {},
    };
    const keyv = new Keyv({ store });
    const cache = await open({ l2: keyv });
    expect(cache.health().backend).toBe('custom');
    const keys = await fill(cache);

    expect(await cache.purge({ subject: { ip: '203.0.113.1' } })).toMatchObject({ l1Removed: 2, l2: 'partial' });
    expect(await keyv.get(keys.dnsbl)).toBeUndefined();
    expect(await keyv.get(keys.geo)).toBeUndefined();
    expect(await cache.purge({ provider: 'dnsbl' })).toMatchObject({ l2: 'partial' });
    expect(await cache.purge({ all: true })).toMatchObject({ l2: 'done' });
    expect(plain.size).toBe(0);
  });

  it('counts L2 failures of a store that swallows its errors', async () => {
    const failingStore = {
      get: async (): Promise<never> => {
        throw new Error('disk full');
      },
      set: async (): Promise<never> => {
        throw new Error('disk full');
      },
      delete: async () => false,
      clear: async () => undefined,
      on: () => failingStore,
      opts: {},
    };
    const keyv = new Keyv({ store: failingStore });
    const cache = await open({ l2: keyv, l2FailureThreshold: 1 });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    // Keyv hides a failed get entirely (no throw, no event, so it looks like a miss); a failed set it reports as an event.
    expect((await dnsbl.getOrFetch(dnsbl.key('203.0.113.1'), async () => ({ score: 0.5 }))).status).toBe('fresh');
    expect(await eventually(() => cache.health().l2 === 'down')).toBe(true);
    expect(cache.stats().l2).toMatchObject({ errors: 1, writeFailures: 1 });
  });

  it('bounds the in-memory store, forgetting the oldest insertion first', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect(map.size).toBe(2);
    map.set('c', 4);
    expect([...map.entries()]).toEqual([
      ['b', 2],
      ['c', 4],
    ]);
  });

  it('keeps serving from L1 when a back-end cannot load', async () => {
    const downs: string[] = [];
    const cache = createTieredCache({ secret: TEST_SECRET, l2: { sqlite: { path: '/nonexistent-dir/for/sure/cache.sqlite' } } });
    opened.push(cache);
    cache.on('l2.down', ({ reason }) => downs.push(reason));
    await cache.ready();
    expect(cache.health().l2).toBe('down');
    expect(downs).toHaveLength(1);
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.1');
    expect(await dnsbl.getOrFetch(key, async () => ({ score: 0.1 }))).toMatchObject({ status: 'fresh' });
    expect(dnsbl.lookup(key)).toMatchObject({ value: { score: 0.1 } });
  });
});
