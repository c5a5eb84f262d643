/**
 * Upstream calls per distinct subject under a Zipf-distributed load of repeated
 * submitters (a few addresses come back very often, most once or twice), with one app
 * instance and with three (separate processes) on one Redis. Target: every subject is
 * asked about upstream once per TTL (1.00), however many instances see it and however
 * many of its submissions arrive at once.
 *
 *   node --import tsx bench/upstream-calls.ts      (needs redis-server on PATH)
 *
 * The instances are test/multi-instance/instance-app.ts, on a private redis-server
 * (restarted empty for each case); the StopForumSpam and AbuseIPDB fakes run here and
 * count every call by address. Both cases replay the same seeded sequence of subjects.
 * Env: FORMSECURITY_BENCH_REQUESTS (default 3000).
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type { SignalStatus } from '@formsecurity/core';
import { startFakeAbuseIpdb, startFakeStopForumSpam } from '@formsecurity/testing';
import type { RecordedRequest } from '@formsecurity/testing';
import { startInstances, waitUntil } from '../test/multi-instance/instances.js';
import { PrivateRedis } from '../test/support/private-redis.js';
import { count, printRows, printTargets } from './lib/markdown.js';
import type { Target } from './lib/markdown.js';
import { benchAddress, seededRandom, zipf } from './lib/zipf.js';
import { packagesUnderTest } from './lib/packages-under-test.js';

const REQUESTS = Number(process.env['FORMSECURITY_BENCH_REQUESTS'] ?? 3_000);
const POPULATION = 5_000;
const EXPONENT = 1.1;
const CONCURRENCY = 16;
const SEED = 20_261_203;

interface CaseResult {
  readonly name: string;
  readonly instances: number;
  readonly requests: number;
  readonly distinct: number;
  readonly sfsCalls: number;
  readonly abuseCalls: number;
  readonly maxCallsForOneSubject: number;
  readonly subjectsAskedTwice: number;
  readonly statuses: ReadonlyMap<string, number>;
  /** Engine events over all instances, by type (L2 down/up, quota degraded, …). */
  readonly events: ReadonlyMap<string, number>;
  /** Upstream calls and cross-instance joins, as the instances' caches counted them. */
  readonly cacheFetches: number;
  readonly seconds: number;
}

/** Calls per subject, read from the fake's log by the query parameter that carries the address. */
function callsBySubject(requests: readonly RecordedRequest[], parameter: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const request of requests) {
    const ip = request.query[parameter];
    if (ip !== undefined) calls.set(ip, (calls.get(ip) ?? 0) + 1);
  }
  return calls;
}

interface Case {
  readonly name: string;
  readonly instances: number;
  /** The cache's L2 timeout, when not its default. */
  readonly l2TimeoutMs?: number;
}

async function runCase({ name, instances: instanceCount, l2TimeoutMs }: Case): Promise<CaseResult> {
  const redis = await PrivateRedis.start();
  const sfs = await startFakeStopForumSpam();
  const abuse = await startFakeAbuseIpdb();
  const run = randomBytes(6).toString('hex');
  const instances = await startInstances(instanceCount, {
    redisUrl: redis.url,
    namespace: `fs-bench:${run}`,
    secret: `upstream-bench-secret-${run}`,
    quotaKeyPrefix: `fs-bench:${run}:quota:`,
    stopForumSpamUrl: sfs.url,
    // A quota this bench never reaches: it counts what the cache saves, not what a quota refuses.
    abuseIpdb: { url: abuse.url, key: abuse.key, dailyLimit: 1_000_000 },
    ...(l2TimeoutMs === undefined ? {} : { l2TimeoutMs }),
  });
  try {
    await waitUntil(async () => (await Promise.all(instances.map((i) => i.state()))).every((s) => s.cache.crossInstance), 10_000);
    const pick = zipf(POPULATION, EXPONENT, seededRandom(SEED));
    const sequence = Array.from({ length: REQUESTS }, () => benchAddress(pick()));
    const statuses = new Map<string, number>();
    const note = (status: SignalStatus | undefined): void => {
      const key = status ?? 'absent';
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    };
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let index = next++; index < sequence.length; index = next++) {
          const instance = instances[index % instanceCount];
          if (instance === undefined) throw new Error('no instance');
          const verdict = await instance.submit(sequence[index] as string);
          note(verdict.signals['stopforumspam']?.status);
          note(verdict.signals['abuseipdb']?.status);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    // Calls that outlived their request's deadline still land: let them.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sfsBySubject = callsBySubject(sfs.calls.requests, 'ip');
    const abuseBySubject = callsBySubject(abuse.calls.requests, 'ipAddress');
    const perSubject = [...sfsBySubject.values(), ...abuseBySubject.values()];
    const states = await Promise.all(instances.map((instance) => instance.state()));
    const events = new Map<string, number>();
    for (const event of states.flatMap((state) => state.events)) events.set(event.type, (events.get(event.type) ?? 0) + 1);
    return {
      name,
      instances: instanceCount,
      requests: REQUESTS,
      distinct: new Set(sequence).size,
      sfsCalls: sfs.calls.count,
      abuseCalls: abuse.calls.count,
      maxCallsForOneSubject: Math.max(0, ...perSubject),
      subjectsAskedTwice: perSubject.filter((calls) => calls > 1).length,
      statuses,
      events,
      cacheFetches: states.reduce((total, state) => total + state.cache.fetches, 0),
      seconds,
    };
  } finally {
    await Promise.allSettled(instances.map((instance) => instance.stop()));
    await Promise.allSettled([sfs.close(), abuse.close()]);
    await redis.kill();
  }
}

async function main(): Promise<void> {
  console.log(`# Upstream calls per subject — ${new Date().toISOString()}`);
  console.log(`Node ${process.version}, ${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown CPU'})`);
  console.log(packagesUnderTest());
  console.log(
    `${count(REQUESTS)} submissions, subjects drawn from ${count(POPULATION)} addresses by Zipf (s = ${EXPONENT}), ` +
      `${CONCURRENCY} in flight, round-robin over the instances; default budget (100 ms); TTL 24 h (the run fits in one TTL)`,
  );
  const cases: Case[] = [
    { name: '1 instance', instances: 1 },
    { name: '3 instances', instances: 3 },
    // The L2 guard's default timeout (20 ms) suits a quiet host; on a loaded one Redis
    // answers late, L2 is marked down and single-flight across instances stops (see docs).
    { name: '3 instances, cache.l2TimeoutMs 100', instances: 3, l2TimeoutMs: 100 },
  ];
  const results: CaseResult[] = [];
  for (const entry of cases) results.push(await runCase(entry));

  printRows(
    'Upstream calls per distinct subject (per provider)',
    [
      { title: 'case', align: 'left' },
      { title: 'submissions' },
      { title: 'distinct subjects' },
      { title: 'submissions per subject (= calls per subject without a cache)' },
      { title: 'StopForumSpam calls' },
      { title: 'AbuseIPDB calls' },
      { title: 'calls per subject' },
      { title: 'most calls for one subject' },
      { title: 'subjects asked twice or more' },
    ],
    results.map((r) => [
      r.name,
      count(r.requests),
      count(r.distinct),
      (r.requests / r.distinct).toFixed(2),
      count(r.sfsCalls),
      count(r.abuseCalls),
      `${(r.sfsCalls / r.distinct).toFixed(3)} / ${(r.abuseCalls / r.distinct).toFixed(3)}`,
      String(r.maxCallsForOneSubject),
      String(r.subjectsAskedTwice),
    ]),
  );
  printRows(
    'How the signals ended (both providers)',
    [{ title: 'case', align: 'left' }, { title: 'signals', align: 'left' }, { title: 'engine events', align: 'left' }, { title: 'run time s' }],
    results.map((r) => [
      r.name,
      [...r.statuses.entries()].map(([status, n]) => `${status} ${count(n)}`).join(', '),
      [...r.events.entries()].map(([type, n]) => `${type} ×${n}`).join(', ') || 'none',
      r.seconds.toFixed(1),
    ]),
  );
  printTargets(
    results.map((r): Target => {
      const worst = Math.max(r.sfsCalls, r.abuseCalls) / r.distinct;
      return [`${r.name}: 1.0 upstream call per subject per TTL`, worst.toFixed(3), worst <= 1];
    }),
  );
}

await main();
