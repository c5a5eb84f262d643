/**
 * Three app instances (separate processes, Express + FormSecurity) on one Redis of the
 * suite's own: they share cached answers, spend one daily quota exactly, open each
 * other's breakers, and forget a purged subject together.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAbuseIpdb, startFakeStopForumSpam } from '@formsecurity/testing';
import type { AbuseIpdbFake, StopForumSpamFake } from '@formsecurity/testing';
import { PrivateRedis } from '../support/private-redis.js';
import { startInstances, waitUntil } from './instances.js';
import type { Instance } from './instances.js';

const DAILY_ABUSEIPDB_LIMIT = 25;
const BREAKER_THRESHOLD = 3;

let redis: PrivateRedis;
let sfs: StopForumSpamFake;
let abuse: AbuseIpdbFake;
let instances: Instance[];
const subjectsUsed = new Set<string>();

/** A distinct documentation-range address per call (198.18.0.0/15, the benchmarking range). */
let nextAddress = 0;
function address(): string {
  nextAddress += 1;
  const ip = `198.18.${nextAddress >> 8}.${nextAddress & 255}`;
  subjectsUsed.add(ip);
  return ip;
}

const sfsCallsFor = (ip: string): number => sfs.calls.requests.filter((request) => request.query['ip'] === ip).length;

function instanceAt(index: number): Instance {
  const found = instances[index];
  if (found === undefined) throw new Error(`no instance ${index}`);
  return found;
}

beforeAll(async () => {
  redis = await PrivateRedis.start();
  sfs = await startFakeStopForumSpam();
  abuse = await startFakeAbuseIpdb();
  const run = randomBytes(6).toString('hex');
  instances = await startInstances(3, {
    redisUrl: redis.url,
    namespace: `fs-test:${run}`,
    secret: `multi-instance-secret-${run}`,
    quotaKeyPrefix: `fs-test:${run}:quota:`,
    stopForumSpamUrl: sfs.url,
    abuseIpdb: { url: abuse.url, key: abuse.key, dailyLimit: DAILY_ABUSEIPDB_LIMIT },
    breaker: { threshold: BREAKER_THRESHOLD, openMs: 60_000 },
    budgetMs: 1_000,
  });
  // Every instance's L2 must be up (and subscribed) before the first scenario.
  await waitUntil(async () => (await Promise.all(instances.map((i) => i.state()))).every((s) => s.cache.crossInstance), 10_000);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled((instances ?? []).map((instance) => instance.stop()));
  await Promise.allSettled([sfs?.close(), abuse?.close()]);
  await redis?.kill();
});

describe('three instances on one Redis', () => {
  it('share cached answers: a subject looked up by one instance is cached for all', async () => {
    const ip = address();
    const first = await instanceAt(0).submit(ip);
    const second = await instanceAt(1).submit(ip);
    const third = await instanceAt(2).submit(ip);

    expect(first.signals['stopforumspam']?.status).toBe('fresh');
    expect(second.signals['stopforumspam']?.status).toBe('cached');
    expect(third.signals['stopforumspam']?.status).toBe('cached');
    expect(third.signals['abuseipdb']?.status).toBe('cached');
    expect(sfsCallsFor(ip)).toBe(1);
    expect(abuse.calls.requests.filter((request) => request.query['ipAddress'] === ip)).toHaveLength(1);
  });

  it('make one upstream call for a new subject asked about by all three at once', async () => {
    sfs.faults.latency(50);
    try {
      const ip = address();
      const verdicts = await Promise.all(instances.flatMap((instance) => [instance.submit(ip), instance.submit(ip), instance.submit(ip)]));
      expect(verdicts.every((verdict) => verdict.signals['stopforumspam']?.status !== 'error')).toBe(true);
      expect(sfsCallsFor(ip)).toBe(1);
    } finally {
      sfs.faults.clear();
    }
  });

  it(`spend a daily quota of ${DAILY_ABUSEIPDB_LIMIT} exactly: ${DAILY_ABUSEIPDB_LIMIT} upstream calls, whatever instance asks`, async () => {
    // The earlier scenarios' calls count against the same day.
    const spentBefore = abuse.calls.count;
    const subjects = Array.from({ length: 3 * DAILY_ABUSEIPDB_LIMIT }, () => address());
    const statuses: string[] = [];
    // Several submissions in flight at every instance, so the instances race for the last calls.
    const queue = [...subjects];
    await Promise.all(
      Array.from({ length: 9 }, async (_, worker) => {
        for (let ip = queue.shift(); ip !== undefined; ip = queue.shift()) {
          const verdict = await instanceAt(worker % 3).submit(ip);
          statuses.push(verdict.signals['abuseipdb']?.status ?? 'absent');
        }
      }),
    );

    expect(abuse.calls.count).toBe(DAILY_ABUSEIPDB_LIMIT);
    expect(statuses.filter((status) => status === 'fresh')).toHaveLength(DAILY_ABUSEIPDB_LIMIT - spentBefore);
    expect(statuses.filter((status) => status === 'quota-exhausted')).toHaveLength(subjects.length - (DAILY_ABUSEIPDB_LIMIT - spentBefore));
  });

  it('forget a purged subject in every instance', async () => {
    const ip = address();
    for (const instance of instances) await instance.submit(ip);
    expect(sfsCallsFor(ip)).toBe(1);
    for (const instance of instances) expect((await instance.submit(ip)).signals['stopforumspam']).toMatchObject({ status: 'cached', score: 0 });

    // The service now lists the address: only an instance that forgot its old answer can say so.
    sfs.list('ip', ip, { confidence: 90, frequency: 40 });
    await instanceAt(0).purge(ip);
    for (const instance of [instanceAt(1), instanceAt(2), instanceAt(0)]) {
      await expect.poll(async () => (await instance.submit(ip)).signals['stopforumspam']?.score, { timeout: 2_000 }).toBeGreaterThan(0.5);
    }
    // One instance asked again; the others found its fresh answer in Redis.
    expect(sfsCallsFor(ip)).toBe(2);
  });

  it('keep no subject in Redis: every key and string value is free of the addresses used', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ COUNT: 500 })) keys.push(...batch);
      expect(keys.length).toBeGreaterThan(0);
      const stored = [...keys];
      for (const key of keys) {
        if ((await client.type(key)) === 'string') stored.push((await client.get(key)) ?? '');
      }
      const leaks = stored.filter((text) => [...subjectsUsed].some((ip) => text.includes(ip)));
      expect(leaks).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it(`open each other's breakers: after ${BREAKER_THRESHOLD} failures at one instance, the others open within a second`, async () => {
    sfs.faults.inject({ kind: 'status', status: 503 });
    const [first, ...others] = instances as [Instance, ...Instance[]];
    for (let i = 0; i < BREAKER_THRESHOLD; i++) {
      expect((await first.state()).breakers['stopforumspam']).toBe('closed');
      expect((await first.submit(address())).signals['stopforumspam']?.status).toBe('error');
    }
    const openedAt = performance.now();
    expect((await first.state()).breakers['stopforumspam']).toBe('open');

    const delays = await Promise.all(
      others.map(async (instance) => {
        await expect.poll(async () => (await instance.state()).breakers['stopforumspam'], { timeout: 1_000, interval: 10 }).toBe('open');
        return performance.now() - openedAt;
      }),
    );
    expect(Math.max(...delays)).toBeLessThanOrEqual(1_000);
    for (const instance of others) {
      const state = await instance.state();
      expect(state.events).toContainEqual(expect.objectContaining({ type: 'breaker.open', provider: 'stopforumspam', origin: 'remote' }));
    }
    // The others now fail fast without asking the provider.
    const callsBefore = sfs.calls.count;
    const verdict = await instanceAt(1).submit(address());
    expect(verdict.signals['stopforumspam']?.status).toBe('circuit-open');
    expect(sfs.calls.count).toBe(callsBefore);
  });
});
