/**
 * Circuit breaker overhead: ours against opossum 10 and cockatiel 4, in one run.
 *
 *   node --expose-gc --import tsx bench/breaker.ts
 *
 * Prints Markdown tables with ratios against a bare `async () => 1` measured in the
 * same run, the heap retained after 1e6 calls, and the failure-path cost for windows
 * of 1k and 100k calls (which must be flat). Absolute numbers vary with the machine;
 * the ratios are what to compare.
 */

import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import {
  circuitBreaker as cockatielBreaker,
  ConsecutiveBreaker,
  handleAll,
  timeout as cockatielTimeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import {
  circuitBreaker,
  consecutiveFailures,
  countWindow,
  ProviderResponseError,
  timeWindow,
  type BreakerStrategy,
  type CircuitBreaker,
} from '@formsecurity/core';
import { measure, printTable, settledHeap, type Measurement } from './lib/table.js';
import { packagesUnderTest } from './lib/packages-under-test.js';

/** opossum ships no types; this is the part the bench uses. */
interface OpossumBreaker {
  fire(): Promise<unknown>;
  open(): void;
  shutdown(): void;
}
type OpossumConstructor = new (action: () => Promise<unknown>, options?: Record<string, unknown>) => OpossumBreaker;
const Opossum = createRequire(import.meta.url)('opossum') as OpossumConstructor;

const DEADLINE_MS = 10_000; // opossum's default timeout; never reached here
const noop = (): void => {};
const bare = async (): Promise<number> => 1;
const providerFailure = new ProviderResponseError('http', 'upstream 503', { status: 503 });

/** Times a synchronous body `batch` times per awaited op, and reports per body call. */
async function measureSync(name: string, body: () => void, batch = 1_000): Promise<Measurement> {
  const result = await measure(
    name,
    () => {
      for (let i = 0; i < batch; i++) body();
    },
    { iterations: 200, warmup: 50, rounds: 5 },
  );
  return { name, nsPerOp: result.nsPerOp / batch, opsPerSec: result.opsPerSec * batch };
}

function oursClosed(strategy: BreakerStrategy = consecutiveFailures()): CircuitBreaker {
  return circuitBreaker({ name: 'bench', strategy });
}

/** An engine-style per-call deadline: one AbortController and one timer, cleared on answer. */
async function withDeadline<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DEADLINE_MS);
  try {
    return await call(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

interface Case {
  readonly name: string;
  readonly op: () => unknown;
  /** Slow cases run fewer iterations to keep the whole bench near a minute. */
  readonly slow?: boolean;
}

/**
 * Runs every case once briefly before measuring any, so the first case measured does
 * not pay for JIT warm-up and the tables compare like with like.
 */
async function measureCases(cases: readonly Case[]): Promise<Measurement[]> {
  for (const { name, op } of cases) await measure(name, op, { iterations: 10_000, warmup: 0, rounds: 1 });
  const rows: Measurement[] = [];
  for (const { name, op, slow } of cases) {
    rows.push(await measure(name, op, slow ? { iterations: 30_000, warmup: 5_000, rounds: 5 } : {}));
  }
  return rows;
}

async function closedPath(): Promise<Measurement[]> {
  const ours = oursClosed();
  const lowLevel = oursClosed();
  const withTimeout = oursClosed();
  const opossumDefault = new Opossum(bare);
  const opossumNoTimeout = new Opossum(bare, { timeout: false });
  const cockatiel = cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
  const cockatielWithTimeout = wrap(
    cockatielTimeout(DEADLINE_MS, TimeoutStrategy.Cooperative),
    cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const rows = await measureCases([
    { name: 'bare async () => 1', op: () => bare() },
    { name: 'ours: execute(fn)', op: () => ours.execute(bare) },
    {
      name: 'ours: tryAcquire + recordSuccess (engine path)',
      op: async () => {
        const permit = lowLevel.tryAcquire();
        if (permit === false) throw lowLevel.openError();
        const value = await bare();
        lowLevel.recordSuccess(permit, 0);
        return value;
      },
    },
    { name: 'platform: per-call deadline alone (AbortController + timer)', op: () => withDeadline(() => bare()), slow: true },
    {
      name: 'ours: execute(fn) + per-call deadline',
      op: () => withDeadline((signal) => withTimeout.execute(() => (signal.aborted ? Promise.reject(signal.reason) : bare()))),
      slow: true,
    },
    { name: 'opossum 10: default (10 s timeout)', op: () => opossumDefault.fire(), slow: true },
    { name: 'opossum 10: timeout disabled', op: () => opossumNoTimeout.fire(), slow: true },
    { name: 'cockatiel 4: circuitBreaker', op: () => cockatiel.execute(bare), slow: true },
    { name: 'cockatiel 4: timeout + circuitBreaker', op: () => cockatielWithTimeout.execute(bare), slow: true },
  ]);
  opossumDefault.shutdown();
  opossumNoTimeout.shutdown();
  return rows;
}

async function openPath(): Promise<Measurement[]> {
  const ours = oursClosed();
  ours.isolate();
  const opossum = new Opossum(bare);
  opossum.open();
  const cockatiel = cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
  cockatiel.isolate();
  const sharedError = new Error('shared');
  const rows = await measureCases([
    { name: 'bare async () => 1', op: () => bare() },
    { name: 'platform: Promise.reject(error).catch()', op: () => Promise.reject(sharedError).catch(noop) },
    { name: 'ours: execute(fn) rejects', op: () => ours.execute(bare).catch(noop) },
    { name: 'opossum 10: fire() rejects', op: () => opossum.fire().catch(noop), slow: true },
    { name: 'cockatiel 4: execute() rejects', op: () => cockatiel.execute(bare).catch(noop), slow: true },
  ]);
  rows.splice(
    1,
    0,
    await measureSync('ours: tryAcquire() === false (sync, no promise)', () => {
      if (ours.tryAcquire() !== false) throw new Error('expected open');
    }),
  );
  opossum.shutdown();
  return rows;
}

/**
 * Recording failures into windows of 1k and 100k calls. Half the calls fail and the
 * threshold is 90 %, so the breaker stays closed and every call takes the full path.
 */
async function failurePath(): Promise<Measurement[]> {
  const alternating = (breaker: CircuitBreaker): (() => void) => {
    let call = 0;
    return () => {
      const permit = breaker.tryAcquire();
      if (permit === false) throw new Error('breaker opened');
      if ((call++ & 1) === 0) breaker.recordFailure(permit, providerFailure, 3);
      else breaker.recordSuccess(permit, 3);
    };
  };
  const countBreaker = (size: number): CircuitBreaker =>
    oursClosed(countWindow({ size, minimumCalls: 10, failureRate: 0.9 }));
  /** A time window whose length holds about `callsInWindow` calls at one call per clock tick. */
  const timeBreaker = (callsInWindow: number): CircuitBreaker => {
    let tick = 0;
    return circuitBreaker({
      name: 'bench',
      now: () => tick++,
      strategy: timeWindow({ windowMs: callsInWindow, buckets: 10, minimumCalls: 10, failureRate: 0.9 }),
    });
  };
  const fill = (breaker: CircuitBreaker, calls: number): CircuitBreaker => {
    const step = alternating(breaker);
    for (let i = 0; i < calls; i++) step();
    return breaker;
  };
  return [
    await measureSync('count window, 1k calls', alternating(fill(countBreaker(1_000), 1_000))),
    await measureSync('count window, 100k calls', alternating(fill(countBreaker(100_000), 100_000))),
    await measureSync('time window, ~1k calls', alternating(fill(timeBreaker(1_000), 1_000))),
    await measureSync('time window, ~100k calls', alternating(fill(timeBreaker(100_000), 100_000))),
  ];
}

interface HeapRow {
  readonly name: string;
  readonly retainedBytes: number;
}

async function retainedHeap(): Promise<HeapRow[]> {
  const calls = 1_000_000;
  const rows: HeapRow[] = [];

  const lowLevel = oursClosed(countWindow({ size: 1_000, failureRate: 0.9 }));
  const before = settledHeap();
  for (let i = 0; i < calls; i++) {
    const permit = lowLevel.tryAcquire();
    if (permit === false) throw new Error('breaker opened');
    if (i % 3 === 0) lowLevel.recordFailure(permit, providerFailure, 3);
    else lowLevel.recordSuccess(permit, 3);
  }
  rows.push({ name: '1e6 x tryAcquire + record (1/3 failing)', retainedBytes: settledHeap() - before });

  const viaExecute = oursClosed(countWindow({ size: 1_000, failureRate: 0.9 }));
  const beforeExecute = settledHeap();
  for (let i = 0; i < calls; i++) await viaExecute.execute(bare);
  rows.push({ name: '1e6 x execute(fn)', retainedBytes: settledHeap() - beforeExecute });
  return rows;
}

function row(rows: readonly Measurement[], name: string): Measurement {
  const found = rows.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no row ${name}`);
  return found;
}

async function main(): Promise<void> {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    console.warn('run with --expose-gc for meaningful heap numbers');
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Circuit breaker bench — ${new Date().toISOString()}`);
  console.log(`Node ${process.version}, ${cpus().length} vCPU (${cpu})`);
  console.log(packagesUnderTest());

  const closed = await closedPath();
  printTable('Closed (healthy provider): one call through the breaker', closed, 'bare async () => 1');
  const open = await openPath();
  printTable('Open: fast-fail', open, 'bare async () => 1');
  const failures = await failurePath();
  printTable('Failure path: recording into a full window (per recorded call)', failures, 'count window, 1k calls');
  const heap = await retainedHeap();
  console.log('\n### Heap retained after 1e6 calls (after forced GC)\n');
  console.log('| case | retained bytes |');
  console.log('|---|---:|');
  for (const { name, retainedBytes } of heap) console.log(`| ${name} | ${retainedBytes.toLocaleString('en-US')} |`);

  const baseline = row(closed, 'bare async () => 1').nsPerOp;
  const ours = row(closed, 'ours: execute(fn)').nsPerOp;
  const engine = row(closed, 'ours: tryAcquire + recordSuccess (engine path)').nsPerOp;
  const opossum = row(closed, 'opossum 10: default (10 s timeout)').nsPerOp;
  const fastFail = row(open, 'ours: tryAcquire() === false (sync, no promise)').nsPerOp;
  const fastFailAsync = row(open, 'ours: execute(fn) rejects').nsPerOp;
  const flatness = Math.max(
    row(failures, 'count window, 100k calls').nsPerOp / row(failures, 'count window, 1k calls').nsPerOp,
    row(failures, 'time window, ~100k calls').nsPerOp / row(failures, 'time window, ~1k calls').nsPerOp,
  );
  const maxRetained = Math.max(...heap.map((entry) => entry.retainedBytes));
  const targets: [string, string, boolean][] = [
    ['closed overhead ≤ 300 ns (execute − bare)', `${(ours - baseline).toFixed(0)} ns`, ours - baseline <= 300],
    ['closed overhead ≤ 300 ns (engine path − bare)', `${(engine - baseline).toFixed(0)} ns`, engine - baseline <= 300],
    ['≥ 5× faster than opossum default (total time per call)', `${(opossum / ours).toFixed(1)}×`, opossum / ours >= 5],
    [
      '≥ 5× less overhead than opossum default (time − bare)',
      `${((opossum - baseline) / Math.max(1, ours - baseline)).toFixed(1)}×`,
      (opossum - baseline) / Math.max(1, ours - baseline) >= 5,
    ],
    ['fast-fail ≤ 1 µs (tryAcquire)', `${fastFail.toFixed(0)} ns`, fastFail <= 1_000],
    ['fast-fail ≤ 1 µs (execute rejects)', `${fastFailAsync.toFixed(0)} ns`, fastFailAsync <= 1_000],
    ['failure path flat: 100k-call window / 1k-call window', `${flatness.toFixed(2)}×`, flatness < 1.5],
    ['zero retained heap (< 64 KiB after 1e6 calls)', `${maxRetained.toLocaleString('en-US')} B`, maxRetained < 65_536],
  ];
  console.log('\n### Targets\n');
  console.log('| target | measured | met |');
  console.log('|---|---:|:---:|');
  for (const [target, measured, met] of targets) console.log(`| ${target} | ${measured} | ${met ? 'yes' : 'NO'} |`);
}

await main();
