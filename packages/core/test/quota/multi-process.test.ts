/**
 * Two processes share one quota over the real Redis: together they never exceed it, and
 * a 429 seen by one pauses the other. Every admitted call is a real HTTP request to a
 * counting server, so "calls made" is counted where the upstream would count it.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingServer, type Arrival } from './support/counting-server.js';
import { SHARED_REDIS_URL, connect, removeKeys, uniquePrefix, type TestRedisClient } from './support/redis.js';
import { Worker, type WorkerQuotaOptions } from './support/worker-protocol.js';

let redis: TestRedisClient;
let server: CountingServer;
// Two long-lived processes; each test gives them a fresh quota.
let instanceA: Worker;
let instanceB: Worker;
const prefixes: string[] = [];

beforeAll(async () => {
  redis = await connect();
  server = await CountingServer.start();
  instanceA = Worker.start();
  instanceB = Worker.start();
});

afterAll(async () => {
  await Promise.all([instanceA.stop(), instanceB.stop()]);
  await server.close();
  for (const prefix of prefixes) await removeKeys(redis, prefix);
  redis.destroy();
});

/** Gives both processes a quota with the same options; arrivals recorded so far are forgotten. */
async function setUpBoth(quotaOptions: WorkerQuotaOptions): Promise<void> {
  await Promise.all([
    instanceA.setup({ options: quotaOptions, serverUrl: server.url, instance: 'A' }),
    instanceB.setup({ options: quotaOptions, serverUrl: server.url, instance: 'B' }),
  ]);
  server.arrivals.length = 0;
}

function options(overrides: Partial<WorkerQuotaOptions> & { provider: string }): WorkerQuotaOptions {
  const keyPrefix = uniquePrefix();
  prefixes.push(keyPrefix);
  // A generous operation timeout: 500 simultaneous scripts per process must not be mistaken for an outage.
  return { redis: { url: SHARED_REDIS_URL }, keyPrefix, storageTimeoutMs: 5_000, ...overrides };
}

describe('a quota shared by two processes on Redis', () => {
  it('lets exactly 100 of 1,000 concurrent attempts reach the upstream', async () => {
    const quotaOptions = options({ provider: 'exact', daily: { limit: 100 } });
    await setUpBoth(quotaOptions);
    const workers = [instanceA, instanceB];
    for (const worker of workers) worker.send({ type: 'burst', attempts: 500 });
    const results = await Promise.all(workers.map((worker) => worker.next('burst-done')));

    for (const result of results) {
      expect(result.unexpected).toEqual([]);
      expect(result.events.filter((event) => event.startsWith('quota.degraded'))).toEqual([]);
      expect(result.admitted + result.refused).toBe(500);
    }
    expect(results.reduce((sum, result) => sum + result.admitted, 0)).toBe(100);
    expect(server.count((arrival) => arrival.path === '/work')).toBe(100);
    const stored = await redis.get(`${quotaOptions.keyPrefix}{exact}:calls:day:${new Date().toISOString().slice(0, 10)}`);
    expect(Number(stored)).toBe(100);
  });

  // The pause check rides on the admission script when there are meters to check, and on
  // a cached read (trusted for pauseCheckMs) when there are none.
  const pauseCases = [
    { name: 'with a daily quota (checked on every call)', quota: { daily: { limit: 100_000 } }, lagMs: 150 },
    { name: 'with nothing else to check (cached for 100 ms)', quota: { pauseCheckMs: 100 }, lagMs: 250 },
  ];

  for (const { name, quota, lagMs } of pauseCases) {
    it(`stops the other process for the 2 s a 429 asked for, then resumes — ${name}`, async () => {
      await setUpBoth(options({ provider: 'paused', ...quota }));
      const [reporter, caller] = [instanceA, instanceB];
      caller.send({ type: 'loop', intervalMs: 20 });
      await until(() => server.count((arrival) => arrival.instance === 'B') >= 5);

      reporter.send({ type: 'call-429' });
      const { atMs: reportedAtMs } = await reporter.next('paused');
      const resumed = (arrival: Arrival): boolean => arrival.instance === 'B' && arrival.atMs >= reportedAtMs + 1_900;
      await until(() => server.count(resumed) >= 3);
      caller.send({ type: 'stop' });
      const loop = await caller.next('loop-done');

      expect(loop.unexpected).toEqual([]);
      const fromB = server.arrivals.filter((arrival) => arrival.instance === 'B').map((arrival) => arrival.atMs);
      // Calls already admitted when the 429 was reported may still land within `lagMs`;
      // after that, nothing until the 2 s are over (less the few ms the report took).
      const duringPause = fromB.filter((atMs) => atMs > reportedAtMs + lagMs && atMs < reportedAtMs + 1_900);
      expect(duringPause).toEqual([]);
      expect(fromB.some((atMs) => atMs < reportedAtMs)).toBe(true);
      expect(fromB.some((atMs) => atMs >= reportedAtMs + 1_900)).toBe(true);

      const refusalsInPause = loop.refusals.filter((refusal) => refusal.atMs > reportedAtMs);
      expect(refusalsInPause.length).toBeGreaterThan(10);
      for (const refusal of refusalsInPause) {
        expect(refusal.retryAfterMs).toBeGreaterThan(0);
        expect(refusal.retryAfterMs).toBeLessThanOrEqual(2_000);
      }
    });
  }
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
