/**
 * Redis failing under the cache: never reachable, killed mid-run, restarted. Each test
 * runs its own redis-server on a free port and kills it by PID. Wall-clock bounds here
 * are deliberately loose (the L2 timeout plus generous slack): they catch a call that
 * waits on a dead Redis, not a slow machine.
 */
import type { PrivateRedis } from '../../../../test/support/private-redis.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createTieredCache, type ProviderCache, type TieredCache } from '../../src/cache/index.js';
import {
  eventually,
  freePort,
  rawRedis,
  startRedisServer,
  stopRedisServer,
  TEST_SECRET,
  uniqueNamespace,
} from './helpers.js';

const L2_TIMEOUT_MS = 20;
const SLACK_MS = 250;

interface Answer {
  readonly score: number;
}

const servers: PrivateRedis[] = [];
const caches: TieredCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
  await Promise.all(servers.splice(0).map((server) => stopRedisServer(server)));
});

function openCache(port: number, namespace = uniqueNamespace()): TieredCache {
  const cache = createTieredCache({
    secret: TEST_SECRET,
    namespace,
    l2: { redis: { url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 } },
    l2TimeoutMs: L2_TIMEOUT_MS,
  });
  caches.push(cache);
  return cache;
}

interface ProbeResult {
  readonly calls: number;
  readonly slowest: number;
  readonly failures: readonly unknown[];
}

/**
 * Keeps making lookups — new keys (misses, so L2 reads, locks and writes) and a known
 * key (hits) — until stopped, timing each and collecting failures.
 */
function startProbe(provider: ProviderCache<Answer>, label: string): { calls: () => number; stop: () => Promise<ProbeResult> } {
  let calls = 0;
  let slowest = 0;
  let running = true;
  const failures: unknown[] = [];
  const loop = (async () => {
    while (running) {
      const key = provider.key(calls % 4 === 0 ? `${label}-known` : `${label}-${calls}`);
      const started = performance.now();
      try {
        await provider.getOrFetch(key, async () => ({ score: 0.5 }));
      } catch (error) {
        failures.push(error);
      }
      slowest = Math.max(slowest, performance.now() - started);
      calls++;
      // With L2 down a lookup may never leave the microtask queue; let timers and I/O run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    calls: () => calls,
    stop: async () => {
      running = false;
      await loop;
      return { calls, slowest, failures };
    },
  };
}

async function probeFor(provider: ProviderCache<Answer>, label: string, count: number): Promise<ProbeResult> {
  const probe = startProbe(provider, label);
  await eventually(() => probe.calls() >= count, 10_000);
  return probe.stop();
}

describe('Redis faults', () => {
  it('never reachable: no call fails or waits, from the very first one', async () => {
    const port = await freePort();
    const cache = openCache(port);
    const downs: string[] = [];
    cache.on('l2.down', ({ reason }) => downs.push(reason));
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });

    // Lookups start at once, while the back-end loads and its first connection fails.
    const early = startProbe(dnsbl, 'early');
    await cache.ready();
    await eventually(() => cache.health().l2 === 'down');
    const fromStart = await early.stop();
    const later = await probeFor(dnsbl, 'later', 30);

    for (const run of [fromStart, later]) {
      expect(run.failures).toEqual([]);
      expect(run.slowest).toBeLessThan(L2_TIMEOUT_MS + SLACK_MS);
    }
    expect(cache.health()).toMatchObject({ l2: 'down', crossInstance: false });
    expect(downs.length).toBeGreaterThanOrEqual(1);
    expect(dnsbl.lookup(dnsbl.key('later-known'))).not.toBeInstanceOf(Promise);
  });

  it('killed mid-run, then restarted: no call fails or waits, and L2 use resumes', async () => {
    const port = await freePort();
    servers.push(await startRedisServer(port));
    const namespace = uniqueNamespace();
    const cache = openCache(port, namespace);
    const health: string[] = [];
    cache.on('l2.down', () => health.push('down'));
    cache.on('l2.up', () => health.push('up'));
    const peer = openCache(port, namespace);
    await Promise.all([cache.ready(), peer.ready()]);
    expect(cache.health().l2).toBe('up');
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });

    const before = await probeFor(dnsbl, 'before', 20);
    expect(await eventually(() => cache.stats().l2.writes > 0)).toBe(true);

    const across = startProbe(dnsbl, 'across');
    await eventually(() => across.calls() >= 20);
    await stopRedisServer(servers.pop() as PrivateRedis);
    const callsAtKill = across.calls();
    expect(await eventually(() => cache.health().l2 === 'down')).toBe(true);
    await eventually(() => across.calls() >= callsAtKill + 30);
    const acrossKill = await across.stop();
    expect(acrossKill.calls).toBeGreaterThanOrEqual(callsAtKill + 30);

    const restartProbe = startProbe(dnsbl, 'restart');
    servers.push(await startRedisServer(port));
    expect(await eventually(() => cache.health().l2 === 'up', 10_000)).toBe(true);
    await eventually(() => restartProbe.calls() >= 20);
    const acrossRestart = await restartProbe.stop();

    for (const run of [before, acrossKill, acrossRestart]) {
      expect(run.failures).toEqual([]);
      expect(run.slowest).toBeLessThan(L2_TIMEOUT_MS + SLACK_MS);
    }
    expect(health).toEqual(['up', 'down', 'up']);

    // L2 use resumed: a new answer lands in the restarted (empty) server, where another instance finds it.
    const key = dnsbl.key('192.0.2.200');
    await dnsbl.getOrFetch(key, async () => ({ score: 0.8 }));
    const raw = await rawRedis(`redis://127.0.0.1:${port}`);
    try {
      expect(await eventually(async () => (await raw.exists(`${namespace}::${key}`)) === 1)).toBe(true);
    } finally {
      await raw.close();
    }
    const peerDnsbl = peer.forProvider<Answer>({ name: 'dnsbl' });
    expect(await eventually(() => peer.health().l2 === 'up', 10_000)).toBe(true);
    expect(await peerDnsbl.lookup(key)).toMatchObject({ value: { score: 0.8 } });

    // And the bus resubscribed: a purge from one instance reaches the other's L1.
    const heard = new Promise<number>((resolve) => peer.on('purge', ({ origin, l1Removed }) => origin === 'remote' && resolve(l1Removed)));
    expect(await cache.purge({ subject: { ip: '192.0.2.200' } })).toMatchObject({ l2: 'done', broadcast: 'sent' });
    expect(await heard).toBe(1);
    expect(peerDnsbl.lookup(key)).toBeInstanceOf(Promise);
  });

  it('frozen (no replies at all): calls are bounded by the timeouts, then L2 is skipped until a probe finds it answering', async () => {
    const port = await freePort();
    const server = await startRedisServer(port);
    servers.push(server);
    const cache = openCache(port);
    await cache.ready();
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    await probeFor(dnsbl, 'warm', 10);

    server.freeze();
    try {
      const frozen = await probeFor(dnsbl, 'frozen', 40);
      expect(frozen.failures).toEqual([]);
      // A miss may wait for one lookup timeout and one lock timeout (100 ms by default) before calling upstream.
      expect(frozen.slowest).toBeLessThan(L2_TIMEOUT_MS + 100 + SLACK_MS);
      expect(cache.health().l2).toBe('down');
      expect(cache.stats().l2.skipped).toBeGreaterThan(0);
    } finally {
      server.thaw();
    }
    // No lookup needs L2 now; the background probe (after l2OpenMs, 1 s) finds it answering.
    expect(await eventually(() => cache.health().l2 === 'up', 10_000)).toBe(true);
  });
});
