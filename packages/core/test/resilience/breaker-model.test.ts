/**
 * Model-based test: random sequences of calls, concurrent calls, time steps, manual
 * and remote transitions drive the real breaker and a deliberately naive reference
 * model (it keeps every call in a list and recounts it each time); after every step
 * both must agree on the state and on whether a call is let through.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProviderResponseError } from '../../src/errors.js';
import {
  circuitBreaker,
  consecutiveFailures,
  countWindow,
  timeWindow,
  type BreakerState,
  type BreakerStrategy,
  type Permit,
} from '../../src/resilience/index.js';
import { manualClock } from './support/manual-clock.js';

type StrategyConfig =
  | { readonly kind: 'consecutive'; readonly threshold: number }
  | {
      readonly kind: 'count';
      readonly size: number;
      readonly minimumCalls: number;
      readonly failureRate: number;
      readonly slowCallRate: number;
    }
  | {
      readonly kind: 'time';
      readonly windowMs: number;
      readonly buckets: number;
      readonly minimumCalls: number;
      readonly failureRate: number;
      readonly slowCallRate: number;
    };

interface Config {
  readonly strategy: StrategyConfig;
  readonly slowCallMs: number;
  readonly probes: number;
  readonly successThreshold: number;
  readonly probeTimeoutMs: number;
  readonly initialMs: number;
  readonly multiplier: number;
  readonly maxMs: number;
}

type Outcome = { readonly kind: 'success' | 'failure' | 'ignored'; readonly durationMs: number };

type Op =
  | { readonly op: 'call'; readonly outcome: Outcome }
  | { readonly op: 'start' }
  | { readonly op: 'finish'; readonly outcome: Outcome }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'isolate' }
  | { readonly op: 'reset' }
  | { readonly op: 'remote-open'; readonly manual: boolean; readonly openMs: number }
  | { readonly op: 'remote-close'; readonly manual: boolean };

/** The reference: same rules as the spec, written the slow, obvious way. */
class ReferenceBreaker {
  state: BreakerState;
  private generation = 0;
  private calls: { failed: boolean; slow: boolean; at: number }[] = [];
  private admitted = 0;
  private successes = 0;
  private failures = 0;
  private lastProbeAt = 0;

  constructor(
    private readonly config: Config,
    private readonly now: () => number,
  ) {
    this.state = { kind: 'closed', since: now() };
  }

  acquire(): number | false {
    const state = this.state;
    if (state.kind === 'closed') return this.generation;
    if (state.kind === 'open') {
      if (this.now() < state.until) return false;
      this.moveTo({ kind: 'half-open', since: this.now(), attempt: state.attempt });
      this.lastProbeAt = this.now();
    }
    const attempt = (this.state as { attempt: number }).attempt;
    if (this.admitted < this.config.probes) {
      this.admitted++;
      this.lastProbeAt = this.now();
      return this.generation;
    }
    if (this.now() - this.lastProbeAt >= this.config.probeTimeoutMs) this.openFor(attempt + 1);
    return false;
  }

  record(permit: number, outcome: Outcome): void {
    if (permit !== this.generation) return;
    const state = this.state;
    if (outcome.kind === 'ignored') {
      if (state.kind === 'half-open' && this.admitted > 0) this.admitted--;
      return;
    }
    const failed = outcome.kind === 'failure';
    const slow = outcome.durationMs >= this.config.slowCallMs;
    if (state.kind === 'closed') {
      this.calls.push({ failed, slow, at: this.now() });
      if (this.strategySaysOpen()) this.openFor(0);
    } else if (state.kind === 'half-open') {
      if (!failed && !slow) {
        if (++this.successes >= this.config.successThreshold) this.close();
      } else if (++this.failures > this.config.probes - this.config.successThreshold) {
        this.openFor(state.attempt + 1);
      }
    }
  }

  isolate(): void {
    if (this.state.kind === 'open' && this.state.isolated) return;
    this.moveTo({ kind: 'open', since: this.now(), until: Infinity, attempt: this.attempt(), isolated: true });
  }

  reset(): void {
    if (this.state.kind === 'closed') this.calls = [];
    else this.close();
  }

  remoteOpen(manual: boolean, openMs: number): void {
    const state = this.state;
    if (manual) {
      if (!(state.kind === 'open' && state.isolated)) this.isolate();
    } else if (state.kind !== 'open') {
      this.moveTo({ kind: 'open', since: this.now(), until: this.now() + openMs, attempt: this.attempt(), isolated: false });
    }
  }

  remoteClose(manual: boolean): void {
    const state = this.state;
    if (state.kind === 'closed' || (state.kind === 'open' && state.isolated && !manual)) return;
    this.close();
  }

  private strategySaysOpen(): boolean {
    const strategy = this.config.strategy;
    if (strategy.kind === 'consecutive') {
      let run = 0;
      for (let i = this.calls.length - 1; i >= 0 && (this.calls[i]!.failed || this.calls[i]!.slow); i--) run++;
      return run >= strategy.threshold;
    }
    let window: { failed: boolean; slow: boolean }[];
    if (strategy.kind === 'count') {
      window = this.calls.slice(-strategy.size);
    } else {
      const bucketMs = strategy.windowMs / strategy.buckets;
      const newest = Math.floor(this.now() / bucketMs);
      window = this.calls.filter((call) => Math.floor(call.at / bucketMs) > newest - strategy.buckets);
    }
    const failed = window.filter((call) => call.failed).length;
    const slow = window.filter((call) => call.slow).length;
    return (
      window.length >= strategy.minimumCalls &&
      (failed / window.length >= strategy.failureRate || slow / window.length >= strategy.slowCallRate)
    );
  }

  private attempt(): number {
    return this.state.kind === 'closed' ? 0 : this.state.attempt;
  }

  private openFor(attempt: number): void {
    const period = Math.min(this.config.maxMs, this.config.initialMs * this.config.multiplier ** attempt);
    this.moveTo({ kind: 'open', since: this.now(), until: this.now() + period, attempt, isolated: false });
  }

  private close(): void {
    this.calls = [];
    this.moveTo({ kind: 'closed', since: this.now() });
  }

  private moveTo(state: BreakerState): void {
    this.state = state;
    this.generation++;
    this.admitted = 0;
    this.successes = 0;
    this.failures = 0;
  }
}

/** Times on a 100 ms grid, so time steps land exactly on period and bucket boundaries. */
const hundreds = (min: number, max: number): fc.Arbitrary<number> =>
  fc.integer({ min, max }).map((count) => count * 100);

const rate = fc.integer({ min: 1, max: 20 }).map((twentieths) => twentieths / 20);

const strategyArb: fc.Arbitrary<StrategyConfig> = fc.oneof(
  fc.record({ kind: fc.constant('consecutive' as const), threshold: fc.integer({ min: 1, max: 6 }) }),
  fc
    .record({
      kind: fc.constant('count' as const),
      size: fc.integer({ min: 1, max: 12 }),
      minimumCalls: fc.integer({ min: 1, max: 12 }),
      failureRate: rate,
      slowCallRate: rate,
    })
    .map((config) => ({ ...config, minimumCalls: Math.min(config.minimumCalls, config.size) })),
  fc.record({
    kind: fc.constant('time' as const),
    windowMs: hundreds(1, 20),
    buckets: fc.integer({ min: 1, max: 8 }),
    minimumCalls: fc.integer({ min: 1, max: 8 }),
    failureRate: rate,
    slowCallRate: rate,
  }),
);

const configArb: fc.Arbitrary<Config> = fc
  .record({
    strategy: strategyArb,
    slowCallMs: fc.constantFrom(Number.POSITIVE_INFINITY, 100),
    probes: fc.integer({ min: 1, max: 4 }),
    successThreshold: fc.integer({ min: 1, max: 4 }),
    probeTimeoutMs: hundreds(1, 50),
    initialMs: hundreds(1, 10),
    multiplier: fc.integer({ min: 1, max: 3 }),
    maxMs: hundreds(1, 100),
  })
  .map((config) => ({
    ...config,
    successThreshold: Math.min(config.successThreshold, config.probes),
    maxMs: Math.max(config.maxMs, config.initialMs),
  }));

const outcomeArb: fc.Arbitrary<Outcome> = fc.record({
  // Successes outnumber failures so windows fill and evict before a threshold trips.
  kind: fc.oneof(
    { weight: 6, arbitrary: fc.constant('success' as const) },
    { weight: 3, arbitrary: fc.constant('failure' as const) },
    { weight: 1, arbitrary: fc.constant('ignored' as const) },
  ),
  // Mostly fast calls, for the same reason; 100 sits exactly on slowCallMs.
  durationMs: fc.constantFrom(0, 0, 0, 0, 0, 50, 99, 100, 150),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ op: fc.constant('call' as const), outcome: outcomeArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('start' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('finish' as const), outcome: outcomeArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: hundreds(0, 30) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('isolate' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('remote-open' as const),
      manual: fc.boolean(),
      openMs: hundreds(0, 50),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remote-close' as const), manual: fc.boolean() }) },
);

function strategyFor(config: StrategyConfig): BreakerStrategy {
  switch (config.kind) {
    case 'consecutive':
      return consecutiveFailures({ threshold: config.threshold });
    case 'count':
      return countWindow(config);
    case 'time':
      return timeWindow(config);
  }
}

const failure = new ProviderResponseError('http', 'upstream 503', { status: 503 });
const invalidInput = new ProviderResponseError('invalid-input', 'bad subject', { status: 422 });

describe('circuit breaker against a reference model', () => {
  it('agrees on every state and every admission over random sequences', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 300, size: 'max' }), (config, ops) => {
        const clock = manualClock(0);
        const real = circuitBreaker({
          name: 'model',
          now: clock.now,
          random: () => 0.5,
          strategy: strategyFor(config.strategy),
          slowCallMs: config.slowCallMs,
          halfOpen: {
            probes: config.probes,
            successThreshold: config.successThreshold,
            probeTimeoutMs: config.probeTimeoutMs,
          },
          backoff: { initialMs: config.initialMs, multiplier: config.multiplier, maxMs: config.maxMs, jitter: 0 },
        });
        const model = new ReferenceBreaker(config, clock.now);
        const pending: { real: Permit; model: number }[] = [];

        const report = (permit: Permit, outcome: Outcome): void => {
          if (outcome.kind === 'success') real.recordSuccess(permit, outcome.durationMs);
          else real.recordFailure(permit, outcome.kind === 'failure' ? failure : invalidInput, outcome.durationMs);
        };

        for (const step of ops) {
          switch (step.op) {
            case 'call':
            case 'start': {
              const realPermit = real.tryAcquire();
              const modelPermit = model.acquire();
              expect(realPermit === false).toBe(modelPermit === false);
              if (realPermit === false || modelPermit === false) break;
              if (step.op === 'start') pending.push({ real: realPermit, model: modelPermit });
              else {
                report(realPermit, step.outcome);
                model.record(modelPermit, step.outcome);
              }
              break;
            }
            case 'finish': {
              const call = pending.shift();
              if (call === undefined) break;
              report(call.real, step.outcome);
              model.record(call.model, step.outcome);
              break;
            }
            case 'advance':
              clock.advance(step.ms);
              break;
            case 'isolate':
              real.isolate();
              model.isolate();
              break;
            case 'reset':
              real.reset();
              model.reset();
              break;
            case 'remote-open':
              real.applyRemote({ state: 'open', manual: step.manual, openMs: step.openMs });
              model.remoteOpen(step.manual, step.openMs);
              break;
            case 'remote-close':
              real.applyRemote({ state: 'closed', manual: step.manual });
              model.remoteClose(step.manual);
              break;
          }
          expect(real.state).toEqual(model.state);
        }
      }),
      { numRuns: 300 },
    );
  });
});
