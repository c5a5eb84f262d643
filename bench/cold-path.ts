/**
 * The cold path: every submission comes from a new address, so every provider is asked
 * upstream. The loopback fakes answer after fixed latencies (StopForumSpam 5 ms,
 * AbuseIPDB 20 ms, ip-api 200 ms) and the budget is 100 ms: a verdict must never take
 * longer than the budget plus 5 ms, whatever the slowest provider does. The fakes run in
 * a process of their own (bench/apps/fake-upstreams.ts), as a real service would.
 *
 *   node --import tsx bench/cold-path.ts
 *
 * Baseline in the same run: a plain node:http GET (keep-alive, as the providers use) of
 * the 5 ms and 20 ms fakes, which is what the provider call costs before FormSecurity
 * adds anything. Time is measured around `evaluate` (wall) and read from
 * `verdict.durationMs` (the engine's own clock).
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { createFormSecurity, silentLogger } from '@formsecurity/core';
import type { FormSecurity, ProviderRegistration, Verdict } from '@formsecurity/core';
import { abuseIpdb, ipApi, stopForumSpam } from '@formsecurity/providers';
import type { FakeUpstreams } from './apps/fake-upstreams.js';
import { startChild } from './lib/child.js';
import { distribution, ms } from './lib/distribution.js';
import type { Distribution } from './lib/distribution.js';
import { printRows, printTargets } from './lib/markdown.js';
import type { Target } from './lib/markdown.js';
import { benchAddress } from './lib/zipf.js';
import { packagesUnderTest } from './lib/packages-under-test.js';

const BUDGET_MS = 100;
const SLACK_MS = 5;
const SEQUENTIAL_CALLS = Number(process.env['FORMSECURITY_BENCH_COLD_CALLS'] ?? 60);
const CONCURRENCY = 10;
const CONCURRENT_CALLS = 200;
/** How often the event-loop monitor samples; its histogram holds whole intervals, so this is taken off. */
const LOOP_SAMPLE_MS = 5;
const loopDelayMs = (histogram: IntervalHistogram): number => Math.max(0, histogram.max / 1e6 - LOOP_SAMPLE_MS);

interface Row {
  readonly name: string;
  readonly wall: Distribution;
  readonly engine: Distribution | undefined;
  /** How each provider's signals ended, e.g. `ip-api: timeout ×60`. */
  readonly outcomes: string;
  /** The longest the event loop was held up during the case: a deadline timer fires that late at worst. */
  readonly maxLoopDelayMs: number;
}

let nextAddress = 0;
/** A subject nobody asked about before, so nothing is cached. */
const freshSubject = () => ({ ip: benchAddress(nextAddress++) });

async function timed(calls: number, concurrency: number, call: () => Promise<Verdict | undefined>): Promise<{ wall: number[]; verdicts: Verdict[] }> {
  const wall: number[] = [];
  const verdicts: Verdict[] = [];
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < calls) {
      issued++;
      const started = performance.now();
      const verdict = await call();
      wall.push(performance.now() - started);
      if (verdict !== undefined) verdicts.push(verdict);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { wall, verdicts };
}

function outcomesOf(verdicts: readonly Verdict[]): string {
  const counts = new Map<string, number>();
  for (const verdict of verdicts) {
    for (const [provider, signal] of Object.entries(verdict.signals)) {
      const key = `${provider}: ${signal.status}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts.entries()].map(([key, n]) => `${key} ×${n}`).join(', ');
}

async function measureEngine(name: string, engine: FormSecurity, calls: number, concurrency = 1): Promise<Row> {
  // A few calls first: the first connection and JIT are not what this bench is about.
  await timed(3, 1, () => engine.evaluate(freshSubject()));
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  const { wall, verdicts } = await timed(calls, concurrency, () => engine.evaluate(freshSubject()));
  loopDelay.disable();
  return {
    name,
    wall: distribution(wall),
    engine: distribution(verdicts.map((verdict) => verdict.durationMs)),
    outcomes: outcomesOf(verdicts),
    maxLoopDelayMs: loopDelayMs(loopDelay),
  };
}

/** The same client the providers use (node:http, keep-alive), with nothing around it. */
const plainAgent = new Agent({ keepAlive: true });

async function measurePlain(name: string, url: (ip: string) => string, headers: Record<string, string>): Promise<Row> {
  const get = (): Promise<undefined> =>
    new Promise((resolve, reject) => {
      request(url(freshSubject().ip), { headers, agent: plainAgent }, (response) => {
        response.on('data', () => undefined);
        response.on('end', () => resolve(undefined));
        response.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
  await timed(3, 1, get);
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  const { wall } = await timed(SEQUENTIAL_CALLS, 1, get);
  loopDelay.disable();
  return { name, wall: distribution(wall), engine: undefined, outcomes: '', maxLoopDelayMs: loopDelayMs(loopDelay) };
}

async function main(): Promise<void> {
  console.log(`# Cold path bench — ${new Date().toISOString()}`);
  console.log(`Node ${process.version}, ${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown CPU'}); budget ${BUDGET_MS} ms`);
  console.log(packagesUnderTest());

  const fakes = await startChild<FakeUpstreams>('bench/apps/fake-upstreams.ts', { args: ['5', '20', '200'] });
  const { stopForumSpam: sfsUrl, abuseIpdb: abuse, ipApi: geoUrl } = fakes.ready;

  // Quotas off: ip-api's free tier (45 a minute) would otherwise refuse most of the run.
  const registration = (provider: ProviderRegistration['provider']): ProviderRegistration => ({ provider, quota: false });
  const sfsProvider = registration(stopForumSpam({ baseUrl: sfsUrl }));
  const abuseProvider = registration(abuseIpdb({ key: abuse.key, baseUrl: abuse.url }));
  const geoProvider = registration(ipApi({ baseUrl: geoUrl, acceptPlainHttp: true }));
  const engine = (providers: ProviderRegistration[]): FormSecurity =>
    createFormSecurity({ providers, policy: { budgetMs: BUDGET_MS }, cache: { secret: 'bench-cache-secret-0123456789abcdef' }, logger: silentLogger });
  const engines = {
    sfs: engine([sfsProvider]),
    abuse: engine([abuseProvider]),
    geo: engine([geoProvider]),
    all: engine([sfsProvider, abuseProvider, geoProvider]),
  };

  const rows: Row[] = [
    await measurePlain('baseline: plain node:http GET of the 5 ms fake', (ip) => `${sfsUrl}/api?json&ip=${ip}`, {}),
    await measureEngine('evaluate: StopForumSpam at 5 ms', engines.sfs, SEQUENTIAL_CALLS),
    await measurePlain('baseline: plain node:http GET of the 20 ms fake', (ip) => `${abuse.url}/api/v2/check?ipAddress=${ip}`, { key: abuse.key }),
    await measureEngine('evaluate: AbuseIPDB at 20 ms', engines.abuse, SEQUENTIAL_CALLS),
    await measureEngine('evaluate: ip-api at 200 ms', engines.geo, SEQUENTIAL_CALLS),
    await measureEngine('evaluate: all three (5, 20, 200 ms)', engines.all, SEQUENTIAL_CALLS),
    await measureEngine(`evaluate: all three, ${CONCURRENCY} at a time`, engines.all, CONCURRENT_CALLS, CONCURRENCY),
  ];

  printRows(
    `Verdict latency, cold cache, budget ${BUDGET_MS} ms (ms)`,
    [
      { title: 'case', align: 'left' },
      { title: 'calls' },
      { title: 'wall p50' },
      { title: 'wall p99' },
      { title: 'wall max' },
      { title: 'durationMs p50' },
      { title: 'durationMs p99' },
      { title: 'durationMs max' },
      { title: 'worst loop delay' },
      { title: 'signals', align: 'left' },
    ],
    rows.map((row) => [
      row.name,
      String(row.wall.count),
      ms(row.wall.p50),
      ms(row.wall.p99),
      ms(row.wall.max),
      ms(row.engine?.p50 ?? Number.NaN),
      ms(row.engine?.p99 ?? Number.NaN),
      ms(row.engine?.max ?? Number.NaN),
      ms(row.maxLoopDelayMs),
      row.outcomes,
    ]),
  );

  const ratioRows = [
    ['StopForumSpam at 5 ms', rows[1], rows[0]],
    ['AbuseIPDB at 20 ms', rows[3], rows[2]],
  ] as const;
  printRows(
    'What the engine adds to one upstream call (wall p50, same run)',
    [{ title: 'provider', align: 'left' }, { title: 'plain GET' }, { title: 'evaluate' }, { title: 'added ms' }, { title: 'ratio' }],
    ratioRows.map(([name, evaluated, plain]) => [
      name,
      ms(plain?.wall.p50 ?? Number.NaN),
      ms(evaluated?.wall.p50 ?? Number.NaN),
      ms((evaluated?.wall.p50 ?? Number.NaN) - (plain?.wall.p50 ?? Number.NaN)),
      `${((evaluated?.wall.p50 ?? Number.NaN) / (plain?.wall.p50 ?? Number.NaN)).toFixed(2)}×`,
    ]),
  );

  const limit = BUDGET_MS + SLACK_MS;
  const targets: Target[] = rows
    .filter((row) => row.engine !== undefined)
    .map((row): Target => {
      const worst = Math.max(row.wall.max, row.engine?.max ?? 0);
      return [`${row.name}: never over ${limit} ms`, `${ms(worst)} ms`, worst <= limit];
    });
  printTargets(targets);

  plainAgent.destroy();
  await Promise.all([...Object.values(engines).map((e) => e.close()), fakes.stop()]);
}

await main();
