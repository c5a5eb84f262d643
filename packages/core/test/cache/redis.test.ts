import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTieredCache, type TieredCache, type TieredCacheOptions } from '../../src/cache/index.js';
import type { CacheEvents } from '../../src/cache/events.js';
import { runFlight, type FlightReport, type FlightSettings } from './fixtures/flight.js';
import {
  deleteNamespace,
  dumpNamespace,
  eventually,
  manualClock,
  rawRedis,
  SHARED_REDIS_URL,
  sleep,
  TEST_SECRET,
  uniqueNamespace,
  type RawRedis,
} from './helpers.js';

interface Answer {
  readonly score: number;
  readonly reasons?: readonly string[];
}

const namespace = uniqueNamespace();
let redis: RawRedis;
const opened: TieredCache[] = [];

async function open(options: Partial<TieredCacheOptions> = {}): Promise<TieredCache> {
  // A generous L2 timeout: these tests are about what is stored and shared, and the machine is shared and noisy.
  const cache = createTieredCache({
    secret: TEST_SECRET,
    namespace,
    l2: { redis: { url: SHARED_REDIS_URL } },
    l2TimeoutMs: 250,
    ...options,
  });
  opened.push(cache);
  await cache.ready();
  expect(cache.health()).toMatchObject({ l2: 'up', backend: 'redis', crossInstance: true });
  return cache;
}

/** Resolves with the next purge event of `cache` that came from another instance. */
function nextRemotePurge(cache: TieredCache): Promise<CacheEvents['purge']> {
  return new Promise((resolve) => {
    const off = cache.on('purge', (event) => {
      if (event.origin !== 'remote') return;
      off();
      resolve(event);
    });
  });
}

beforeAll(async () => {
  redis = await rawRedis();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
  await deleteNamespace(redis, namespace);
});
afterAll(async () => {
  await deleteNamespace(redis, namespace);
  await redis.close();
});

describe('Redis L2', () => {
  it('stores neither a raw IP nor a raw e-mail in any key or value, and sets the grace TTL', async () => {
    const ip = '198.51.100.23';
    const email = 'Erasure.Subject@example.org';
    const clock = manualClock(Date.now());
    const cache = await open({ now: clock.now });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: 3_600_000, graceMs: 7_200_000 });
    const sfs = cache.forProvider<Answer>({ name: 'sfs', version: '2', facet: 'email' });
    await dnsbl.getOrFetch(dnsbl.keyFor({ ip }) ?? '', async () => ({ score: 1, reasons: ['listed'] }));
    await sfs.getOrFetch(sfs.keyFor({ ip, email }) ?? '', async () => ({ score: 0 }));
    expect(await eventually(() => cache.stats().l2.writes === 2)).toBe(true);

    const stored = await dumpNamespace(redis, namespace);
    const dataKeys = [...stored.keys()].filter((key) => key.startsWith(`${namespace}::`));
    expect(dataKeys).toHaveLength(2);
    for (const [key, value] of stored) {
      for (const secretText of [ip, email, email.toLowerCase(), 'Erasure.Subject', 'erasure.subject']) {
        expect(key).not.toContain(secretText);
        expect(value).not.toContain(secretText);
      }
    }
    expect(dataKeys.sort()).toEqual([
      expect.stringMatching(new RegExp(`^${namespace}::dnsbl:1:[A-Za-z0-9_-]{43}$`)),
      expect.stringMatching(new RegExp(`^${namespace}::sfs:2:[A-Za-z0-9_-]{43}$`)),
    ]);
    const dnsblKey = dataKeys.find((key) => key.includes('::dnsbl:')) ?? '';
    const ttl = await redis.pTTL(dnsblKey);
    expect(ttl).toBeGreaterThan(3_600_000 + 7_200_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000 + 7_200_000);
    const envelope = JSON.parse(stored.get(dnsblKey) ?? '{}') as { value: Record<string, unknown> };
    expect(envelope.value).toMatchObject({ v: 1, t: clock.now(), f: clock.now() + 3_600_000, d: { score: 1 } });
  });

  it('lets another instance read an entry from L2 into its own L1', async () => {
    const writer = await open();
    const reader = await open();
    const key = writer.forProvider<Answer>({ name: 'dnsbl' }).key('203.0.113.7');
    writer.forProvider<Answer>({ name: 'dnsbl' }).set(key, { score: 0.7 });
    expect(await eventually(() => writer.stats().l2.writes === 1)).toBe(true);

    const dnsbl = reader.forProvider<Answer>({ name: 'dnsbl' });
    expect(await dnsbl.lookup(key)).toMatchObject({ value: { score: 0.7 } });
    expect(dnsbl.lookup(key)).not.toBeInstanceOf(Promise);
    expect(reader.stats()).toMatchObject({ l1: { hits: 1, misses: 1 }, l2: { hits: 1 } });
  });

  it('treats an entry written under another schema version as a miss', async () => {
    const older = await open({ schemaVersion: 1 });
    const newer = await open({ schemaVersion: 2 });
    const key = older.forProvider<Answer>({ name: 'dnsbl' }).key('203.0.113.7');
    older.forProvider<Answer>({ name: 'dnsbl' }).set(key, { score: 1 });
    expect(await eventually(() => older.stats().l2.writes === 1)).toBe(true);

    let calls = 0;
    const result = await newer.forProvider<Answer>({ name: 'dnsbl' }).getOrFetch(key, async () => ({ score: (calls++, 0.2) }));
    expect(result).toMatchObject({ status: 'fresh', value: { score: 0.2 } });
    expect(calls).toBe(1);
    expect(newer.stats().l2.schemaMismatches).toBeGreaterThanOrEqual(1);
  });
});

/** Runs a fixture script in its own Node process and collects its stdout lines. */
function spawnFixture(name: string, settings: object): { lines: string[]; send: (line: string) => void; exited: Promise<number | null>; kill: () => void } {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(settings)], {
    cwd: fileURLToPath(new URL('../../../../', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  return {
    lines,
    send: (line) => child.stdin.write(`${line}\n`),
    exited: new Promise((resolve) => child.once('exit', resolve)),
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

describe('purge', () => {
  async function twoInstancesWithEntries(): Promise<{ origin: TieredCache; other: TieredCache; keys: Record<string, string> }> {
    const origin = await open();
    const other = await open();
    const keys: Record<string, string> = {};
    for (const cache of [origin, other]) {
      const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
      const sfs = cache.forProvider<Answer>({ name: 'sfs', facet: 'email' });
      keys['dnsblA'] = dnsbl.key('203.0.113.1');
      keys['dnsblB'] = dnsbl.key('203.0.113.2');
      keys['sfsA'] = sfs.key('a@example.org');
      for (const [name, key] of Object.entries(keys)) {
        await (name.startsWith('sfs') ? sfs : dnsbl).getOrFetch(key, async () => ({ score: 0.5 }));
      }
    }
    expect(await eventually(() => origin.stats().l2.writes === 3)).toBe(true);
    expect(other.stats().l1.entries).toBe(3);
    return { origin, other, keys };
  }

  it("removes one subject from L2 and from every instance's L1", async () => {
    const { origin, other, keys } = await twoInstancesWithEntries();
    const heard = nextRemotePurge(other);
    const report = await origin.purge({ subject: { ip: '203.0.113.1', email: 'a@example.org' } });
    expect(report).toEqual({ l1Removed: 2, l2: 'done', l2Removed: 2, broadcast: 'sent' });
    expect(await heard).toEqual({ scope: 'subject', origin: 'remote', l1Removed: 2 });

    const dnsbl = other.forProvider<Answer>({ name: 'dnsbl' });
    expect(await dnsbl.lookup(keys['dnsblA'] ?? '')).toBeUndefined();
    expect(dnsbl.lookup(keys['dnsblB'] ?? '')).toMatchObject({ value: { score: 0.5 } });
    const remaining = [...(await dumpNamespace(redis, namespace)).keys()].filter((key) => key.includes('::'));
    expect(remaining).toEqual([`${namespace}::${keys['dnsblB']}`]);
  });

  it('finds an answer keyed by several facets through any one of them', async () => {
    const origin = await open();
    const other = await open();
    const subject = { ip: '203.0.113.50', email: 'both@example.org' };
    const keyOf = (cache: TieredCache): string =>
      cache.forProvider<Answer>({ name: 'sfs' }).keyFor(subject, ['ip', 'email', 'fields']) ?? '';
    const key = keyOf(origin);
    expect(key).toMatch(/^sfs:1:[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    await origin.forProvider<Answer>({ name: 'sfs' }).getOrFetch(key, async () => ({ score: 0.3 }));
    await other.forProvider<Answer>({ name: 'sfs' }).getOrFetch(keyOf(other), async () => ({ score: 0.9 }));
    expect(other.forProvider<Answer>({ name: 'sfs' }).lookup(key)).toMatchObject({ value: { score: 0.3 } });

    const heard = nextRemotePurge(other);
    expect(await origin.purge({ subject: { email: 'BOTH@example.org' } })).toMatchObject({ l1Removed: 1, l2Removed: 1 });
    expect(await heard).toMatchObject({ l1Removed: 1 });
    expect(await other.forProvider<Answer>({ name: 'sfs' }).lookup(key)).toBeUndefined();
  });

  it("removes one provider everywhere", async () => {
    const { origin, other, keys } = await twoInstancesWithEntries();
    const heard = nextRemotePurge(other);
    expect(await origin.purge({ provider: 'dnsbl' })).toMatchObject({ l1Removed: 2, l2: 'done', l2Removed: 2 });
    expect(await heard).toMatchObject({ scope: 'provider', l1Removed: 2 });
    expect(other.forProvider<Answer>({ name: 'sfs', facet: 'email' }).lookup(keys['sfsA'] ?? '')).toMatchObject({ value: { score: 0.5 } });
  });

  it('removes everything everywhere, and leaves other namespaces alone', async () => {
    const bystanderNamespace = uniqueNamespace();
    const bystander = createTieredCache({ secret: TEST_SECRET, namespace: bystanderNamespace, l2: { redis: { url: SHARED_REDIS_URL } } });
    opened.push(bystander);
    await bystander.ready();
    const bystanderKey = bystander.forProvider<Answer>({ name: 'dnsbl' }).key('203.0.113.1');
    bystander.forProvider<Answer>({ name: 'dnsbl' }).set(bystanderKey, { score: 0.1 });
    expect(await eventually(() => bystander.stats().l2.writes === 1)).toBe(true);

    const { origin, other } = await twoInstancesWithEntries();
    const heard = nextRemotePurge(other);
    expect(await origin.purge({ all: true })).toMatchObject({ l1Removed: 3, l2: 'done', broadcast: 'sent' });
    expect(await heard).toMatchObject({ scope: 'all', l1Removed: 3 });
    expect(other.stats().l1.entries).toBe(0);
    expect([...(await dumpNamespace(redis, `${namespace}::`)).keys()]).toEqual([]);
    expect(await bystander.forProvider<Answer>({ name: 'dnsbl' }).lookup(bystanderKey)).toMatchObject({ value: { score: 0.1 } });
    await deleteNamespace(redis, bystanderNamespace);
  });
});

describe('purge across processes', () => {
  it("reaches the L1 of an instance in another process", async () => {
    const child = spawnFixture('purge-child.ts', { url: SHARED_REDIS_URL, namespace, secret: TEST_SECRET });
    try {
      expect(await eventually(() => child.lines.includes('ready'), 15_000)).toBe(true);
      const cache = await open();
      expect(await cache.purge({ subject: { ip: '198.51.100.77' } })).toMatchObject({ l2: 'done', l2Removed: 1, broadcast: 'sent' });
      expect(await eventually(() => child.lines.length >= 2, 10_000)).toBe(true);
      expect(JSON.parse(child.lines[1] ?? '{}')).toEqual({ l1Removed: 1, erased: false, kept: true });
      expect(await child.exited).toBe(0);
    } finally {
      child.kill();
    }
  });
});

describe('single-flight across instances', () => {
  it('makes one upstream call in total for 200 lookups split over two processes', async () => {
    const settings: FlightSettings = { url: SHARED_REDIS_URL, namespace, secret: TEST_SECRET, count: 100, upstreamMs: 300 };
    const child = spawnFixture('flight-child.ts', settings);
    try {
      expect(await eventually(() => child.lines.includes('ready'), 15_000)).toBe(true);
      const cache = await open();
      child.send('go');
      const mine = await runFlight(cache, settings, 'parent');
      expect(await eventually(() => child.lines.length >= 2, 10_000)).toBe(true);
      const theirs = JSON.parse(child.lines[1] ?? '{}') as FlightReport;

      const diagnosis = JSON.stringify({ mine: { ...mine, answeredBy: [] }, theirs: { ...theirs, answeredBy: [] } });
      expect(mine.failures + theirs.failures, diagnosis).toBe(0);
      expect(mine.calls + theirs.calls, diagnosis).toBe(1);
      const answers = new Set([...mine.answeredBy, ...theirs.answeredBy]);
      expect(answers.size).toBe(1);
      expect(mine.answeredBy).toHaveLength(100);
      expect(theirs.answeredBy).toHaveLength(100);
      expect(mine.remoteCoalesced + theirs.remoteCoalesced).toBe(1);
      expect(await child.exited).toBe(0);
    } finally {
      child.kill();
    }
  });

  it('waits out a lock whose holder died, then calls upstream itself', async () => {
    const cache = await open({ l2: { redis: { url: SHARED_REDIS_URL, lockWaitMs: 10_000 } } });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.7');
    // What a crashed instance leaves behind: a lock nobody will release.
    await redis.set(`${namespace}:lock:${key}`, 'dead-holder', { expiration: { type: 'PX', value: 150 } });
    let calls = 0;
    const result = await dnsbl.getOrFetch(key, async () => ({ score: (calls++, 0.6) }));
    expect(result).toMatchObject({ status: 'fresh', value: { score: 0.6 } });
    expect(calls).toBe(1);
  });

  it('stops waiting for a holder that takes too long', async () => {
    const cache = await open({ l2: { redis: { url: SHARED_REDIS_URL, lockWaitMs: 100 } } });
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const key = dnsbl.key('203.0.113.8');
    await redis.set(`${namespace}:lock:${key}`, 'slow-holder', { expiration: { type: 'PX', value: 30_000 } });
    let calls = 0;
    expect(await dnsbl.getOrFetch(key, async () => ({ score: (calls++, 0.6) }))).toMatchObject({ status: 'fresh' });
    expect(calls).toBe(1);
    expect(await redis.get(`${namespace}:lock:${key}`)).toBe('slow-holder');
  });

  it('hands waiters the answer another instance fetched, without calling upstream', async () => {
    const holder = await open();
    const waiter = await open();
    const key = holder.forProvider<Answer>({ name: 'dnsbl' }).key('203.0.113.9');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = holder.forProvider<Answer>({ name: 'dnsbl' }).getOrFetch(key, async () => {
      await gate;
      return { score: 0.9 };
    });
    await eventually(async () => (await redis.exists(`${namespace}:lock:${key}`)) === 1);
    let waiterCalls = 0;
    const second = waiter.forProvider<Answer>({ name: 'dnsbl' }).getOrFetch(key, async () => ({ score: (waiterCalls++, 0) }));
    await sleep(50);
    release();
    expect(await first).toMatchObject({ status: 'fresh', value: { score: 0.9 } });
    expect(await second).toMatchObject({ status: 'fresh', value: { score: 0.9 } });
    expect(waiterCalls).toBe(0);
    expect(waiter.stats().coalesced.remote).toBe(1);
    expect(await eventually(async () => (await redis.exists(`${namespace}:lock:${key}`)) === 0)).toBe(true);
  });
});
