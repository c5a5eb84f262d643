/**
 * Cache benchmarks: an L1 hit through `getOrFetch` (grace and stats on) against
 * lru-cache's own `fetch`, cacheable 2 `getOrSet` and bentocache 1 `getOrSet` (grace
 * on), and the L2 → L1 fill path on Redis against a bare GET.
 *
 * Run: node --expose-gc --import tsx bench/cache.ts   (needs Redis at 127.0.0.1:6379,
 * or REDIS_URL; uses and then deletes a random `fs-bench:*` namespace).
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { Cacheable } from 'cacheable';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createTieredCache } from '@formsecurity/core';
import { packagesUnderTest } from './lib/packages-under-test.js';
import { measure, printTable, settledHeap, type Measurement } from './lib/table.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const secret = randomBytes(32);
const answer = { score: 0.2, reasons: ['listed in 1 of 5 lists'], data: { lists: ['example'] } };
const fetcher = async (): Promise<typeof answer> => answer;

/**
 * Measures each case several times, alternating between them, and keeps each one's
 * best: on a shared machine a single pass mostly measures the neighbours.
 */
async function alternating(
  cases: ReadonlyArray<readonly [string, () => unknown]>,
  options: Parameters<typeof measure>[2],
  passes = 3,
): Promise<Measurement[]> {
  const best = new Map<string, Measurement>();
  for (let pass = 0; pass < passes; pass++) {
    for (const [name, op] of cases) {
      const row = await measure(name, op, options);
      const previous = best.get(name);
      if (previous === undefined || row.nsPerOp < previous.nsPerOp) best.set(name, row);
    }
  }
  return [...best.values()];
}

async function l1HitRows(): Promise<Measurement[]> {
  const cache = createTieredCache({ secret, l2: false });
  const provider = cache.forProvider<typeof answer>({ name: 'bench', graceMs: 7 * 86_400_000 });
  const key = provider.key('203.0.113.7');
  await provider.getOrFetch(key, fetcher);

  const lru = new LRUCache<string, typeof answer>({ max: 10_000, fetchMethod: fetcher });
  await lru.fetch(key);

  const cacheable = new Cacheable({ ttl: '24h' });
  await cacheable.getOrSet(key, fetcher);

  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
  });
  const bentoOptions = { key, factory: fetcher, ttl: '24h', grace: '7d' } as const;
  await bento.getOrSet(bentoOptions);

  const rows = await alternating(
    [
      ['lru-cache fetch (baseline)', () => lru.fetch(key)],
      ['tiered getOrFetch, L1 hit', () => provider.getOrFetch(key, fetcher)],
      ['tiered lookup, L1 hit (sync)', () => provider.lookup(key)],
      ['lru-cache get (sync)', () => lru.get(key)],
      ['cacheable 2 getOrSet', () => cacheable.getOrSet(key, fetcher)],
      ['bentocache 1 getOrSet (grace on)', () => bento.getOrSet(bentoOptions)],
    ],
    { iterations: 200_000, rounds: 3, warmup: 20_000 },
  );
  await cache.close();
  await bento.disconnect();
  return rows;
}

async function l2FillRows(): Promise<Measurement[]> {
  const namespace = `fs-bench:${randomBytes(6).toString('hex')}`;
  const keys = 2_000;
  // L1 holds one entry, so every lookup of a rotating key misses L1, reads Redis and fills L1.
  const cache = createTieredCache({ secret, namespace, l1: { maxEntries: 1 }, l2: { redis: { url: REDIS_URL } }, l2TimeoutMs: 200 });
  await cache.ready();
  if (cache.health().l2 !== 'up') throw new Error(`Redis at ${REDIS_URL} is not reachable`);
  const provider = cache.forProvider<typeof answer>({ name: 'bench' });
  const keyList = Array.from({ length: keys }, (_, i) => provider.key(`10.0.${i >> 8}.${i & 255}`));
  for (const key of keyList) provider.set(key, answer);
  await new Promise((resolve) => setTimeout(resolve, 200));

  const raw = createClient({ url: REDIS_URL });
  raw.on('error', () => undefined);
  await raw.connect();
  const dataKey = (key: string): string => `${namespace}::${key}`;
  // The same store the cache reads through, without the cache: what Keyv itself costs.
  const keyv = new Keyv({ store: new KeyvRedis(raw, { namespace }), namespace, useKeyPrefix: false });

  let i = 0;
  const next = (): string => keyList[i++ % keys] as string;
  const options = { iterations: 3_000, rounds: 3, warmup: 500 };
  const rows = await alternating(
    [
      ['redis GET (baseline)', () => raw.get(dataKey(next()))],
      ['Keyv get over @keyv/redis', () => keyv.get(next())],
      ['tiered getOrFetch, L2 hit → L1 fill', () => provider.getOrFetch(next(), fetcher)],
    ],
    options,
  );
  const stats = cache.stats();
  if (stats.fetches !== 0) throw new Error(`expected no upstream calls on the L2 path, saw ${stats.fetches}`);

  await cache.purge({ all: true });
  await cache.close();
  await raw.close();
  return rows;
}

async function main(): Promise<void> {
  console.log(`# Cache bench — ${new Date().toISOString()}`);
  console.log(`Node ${process.version}, ${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown CPU'})`);
  console.log(packagesUnderTest());
  const heapBefore = settledHeap();
  printTable('L1 hit (grace and stats on)', await l1HitRows(), 'lru-cache fetch (baseline)');
  printTable('L2 (Redis) → L1 fill, sequential', await l2FillRows(), 'redis GET (baseline)');
  console.log(`\nheap delta after both runs: ${((settledHeap() - heapBefore) / 1024 / 1024).toFixed(1)} MiB`);
}

await main();
