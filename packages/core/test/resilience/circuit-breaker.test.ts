import { describe, expect, it } from 'vitest';
import {
  CircuitOpenError,
  isCircuitOpenError,
  isConfigurationError,
  ProviderResponseError,
  QuotaExhaustedError,
  TimeoutError,
} from '../../src/errors.js';
import {
  circuitBreaker,
  consecutiveFailures,
  countWindow,
  timeWindow,
  type BreakerCloseEvent,
  type BreakerHalfOpenEvent,
  type BreakerOpenEvent,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type Permit,
} from '../../src/resilience/index.js';
import { manualClock, type ManualClock } from './support/manual-clock.js';

const upstreamDown = (): ProviderResponseError => new ProviderResponseError('http', 'upstream 503', { status: 503 });

function setup(options: Partial<CircuitBreakerOptions> = {}): { breaker: CircuitBreaker; clock: ManualClock } {
  const clock = manualClock();
  const breaker = circuitBreaker({
    name: 'test-provider',
    now: clock.now,
    random: () => 0,
    backoff: { initialMs: 1_000, multiplier: 2, maxMs: 8_000, jitter: 0 },
    ...options,
  });
  return { breaker, clock };
}

function admit(breaker: CircuitBreaker): Permit {
  const permit = breaker.tryAcquire();
  if (permit === false) throw new Error(`expected a permit, breaker is ${breaker.state.kind}`);
  return permit;
}

function fail(breaker: CircuitBreaker, times = 1, error: unknown = upstreamDown()): void {
  for (let i = 0; i < times; i++) breaker.recordFailure(admit(breaker), error);
}

function succeed(breaker: CircuitBreaker, times = 1, durationMs = 0): void {
  for (let i = 0; i < times; i++) breaker.recordSuccess(admit(breaker), durationMs);
}

function openPeriod(breaker: CircuitBreaker): number {
  const state = breaker.state;
  if (state.kind !== 'open') throw new Error(`expected open, got ${state.kind}`);
  return state.until - state.since;
}

describe('circuitBreaker: closed -> open', () => {
  it('opens after the default 5 consecutive failures and then rejects without calling', async () => {
    const { breaker } = setup();
    fail(breaker, 4);
    expect(breaker.state.kind).toBe('closed');
    fail(breaker);
    expect(breaker.state).toMatchObject({ kind: 'open', attempt: 0, isolated: false });
    expect(breaker.tryAcquire()).toBe(false);

    let called = false;
    const rejection = await breaker
      .execute(() => {
        called = true;
        return 1;
      })
      .catch((error: unknown) => error);
    expect(called).toBe(false);
    expect(isCircuitOpenError(rejection)).toBe(true);
    expect(rejection).toBeInstanceOf(CircuitOpenError);
    expect((rejection as Error).message).toContain('test-provider');
  });

  it('a success in between resets the consecutive count', () => {
    const { breaker } = setup({ strategy: consecutiveFailures({ threshold: 3 }) });
    fail(breaker, 2);
    succeed(breaker);
    fail(breaker, 2);
    expect(breaker.state.kind).toBe('closed');
    fail(breaker);
    expect(breaker.state.kind).toBe('open');
  });

  it('uses the strategy it is given (failure rate with a minimum volume)', () => {
    const { breaker } = setup({ strategy: countWindow({ size: 10, minimumCalls: 6, failureRate: 0.5 }) });
    fail(breaker, 5);
    expect(breaker.state.kind).toBe('closed'); // 5 calls < minimumCalls
    succeed(breaker);
    expect(breaker.state.kind).toBe('open'); // 5 of 6 failed
  });

  it('counts slow successes against the provider', () => {
    const { breaker } = setup({ slowCallMs: 200, strategy: consecutiveFailures({ threshold: 3 }) });
    succeed(breaker, 10, 199);
    expect(breaker.state.kind).toBe('closed');
    succeed(breaker, 3, 200);
    expect(breaker.state.kind).toBe('open');
  });

  it('opens on the slow-call rate of a time window', () => {
    const { breaker, clock } = setup({
      slowCallMs: 500,
      strategy: timeWindow({ windowMs: 1_000, buckets: 10, minimumCalls: 4, failureRate: 1, slowCallRate: 0.75 }),
    });
    succeed(breaker, 1, 10);
    succeed(breaker, 2, 900);
    expect(breaker.state.kind).toBe('closed'); // 3 calls < minimumCalls
    clock.advance(100);
    succeed(breaker, 1, 900);
    expect(breaker.state.kind).toBe('open'); // 3 of 4 slow
  });
});

describe('circuitBreaker: open -> half-open -> closed or open', () => {
  it('stays open for the backoff period, then admits a probe', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    expect(openPeriod(breaker)).toBe(1_000);
    clock.advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.state.kind).toBe('open');
    clock.advance(1);
    expect(breaker.tryAcquire()).not.toBe(false);
    expect(breaker.state).toMatchObject({ kind: 'half-open', attempt: 0 });
  });

  it('closes when the probe succeeds, with a fresh window', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.advance(1_000);
    succeed(breaker);
    expect(breaker.state.kind).toBe('closed');
    fail(breaker, 4);
    expect(breaker.state.kind).toBe('closed');
  });

  it('reopens with a doubled period when the probe fails, and the growth is capped', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    const periods = [openPeriod(breaker)];
    for (let round = 0; round < 5; round++) {
      clock.advance(openPeriod(breaker));
      fail(breaker);
      periods.push(openPeriod(breaker));
    }
    expect(periods).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(breaker.state).toMatchObject({ kind: 'open', attempt: 5 });
  });

  it('forgets the backoff once it closes', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.advance(1_000);
    fail(breaker); // attempt 1: 2 s
    clock.advance(2_000);
    succeed(breaker);
    fail(breaker, 5);
    expect(openPeriod(breaker)).toBe(1_000);
  });

  it('jitter only shortens the period, by at most the jitter fraction', () => {
    const draws = [0, 0.5, 0.999_999];
    const periods = draws.map((draw) => {
      const { breaker } = setup({ random: () => draw, backoff: { initialMs: 1_000, maxMs: 1_000, jitter: 0.25 } });
      fail(breaker, 5);
      return openPeriod(breaker);
    });
    expect(periods[0]).toBe(1_000);
    expect(periods[1]).toBe(875);
    expect(periods[2]).toBeGreaterThan(750);
    expect(periods[2]).toBeLessThan(751);
  });

  it('admits the configured number of probes and rejects concurrent callers at once', () => {
    const { breaker, clock } = setup({ halfOpen: { probes: 3, successThreshold: 2 } });
    fail(breaker, 5);
    clock.advance(1_000);
    const probes = [admit(breaker), admit(breaker), admit(breaker)];
    // A fourth caller is not queued: it gets `false` synchronously.
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.state.kind).toBe('half-open');

    breaker.recordSuccess(probes[0]!);
    expect(breaker.state.kind).toBe('half-open');
    breaker.recordFailure(probes[1]!, upstreamDown());
    expect(breaker.state.kind).toBe('half-open'); // 1 failure still leaves 2 successes possible
    breaker.recordSuccess(probes[2]!);
    expect(breaker.state.kind).toBe('closed');
  });

  it('reopens as soon as the success threshold can no longer be met', () => {
    const { breaker, clock } = setup({ halfOpen: { probes: 3, successThreshold: 2 } });
    fail(breaker, 5);
    clock.advance(1_000);
    const probes = [admit(breaker), admit(breaker), admit(breaker)];
    breaker.recordFailure(probes[0]!, upstreamDown());
    breaker.recordFailure(probes[1]!, upstreamDown());
    expect(breaker.state).toMatchObject({ kind: 'open', attempt: 1 });
    // The third probe's late answer belongs to a finished round and changes nothing.
    breaker.recordSuccess(probes[2]!);
    expect(breaker.state.kind).toBe('open');
  });

  it('by default every probe must succeed', () => {
    const { breaker, clock } = setup({ halfOpen: { probes: 2 } });
    fail(breaker, 5);
    clock.advance(1_000);
    const [first, second] = [admit(breaker), admit(breaker)];
    breaker.recordSuccess(first);
    breaker.recordFailure(second, upstreamDown());
    expect(breaker.state.kind).toBe('open');
  });

  it('a slow probe counts as a failed probe', () => {
    const { breaker, clock } = setup({ slowCallMs: 300 });
    fail(breaker, 5);
    clock.advance(1_000);
    breaker.recordSuccess(admit(breaker), 300);
    expect(breaker.state).toMatchObject({ kind: 'open', attempt: 1 });
  });

  it('release() frees a probe slot without deciding anything', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.advance(1_000);
    const probe = admit(breaker);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.release(probe);
    const next = admit(breaker);
    expect(breaker.state.kind).toBe('half-open');
    breaker.recordSuccess(next);
    expect(breaker.state.kind).toBe('closed');
  });

  it('ignores outcomes of calls admitted before the last transition', () => {
    const { breaker, clock } = setup();
    const lateCall = admit(breaker);
    fail(breaker, 5);
    clock.advance(1_000);
    const probe = admit(breaker);
    breaker.recordFailure(lateCall, upstreamDown()); // started while closed: not a probe
    expect(breaker.state.kind).toBe('half-open');
    breaker.recordSuccess(probe);
    expect(breaker.state.kind).toBe('closed');
  });

  it('counts a round whose probes never report back as failed after probeTimeoutMs', () => {
    const opened: BreakerOpenEvent[] = [];
    const { breaker, clock } = setup({ halfOpen: { probes: 1, probeTimeoutMs: 5_000 } });
    breaker.on('open', (event) => opened.push(event));
    fail(breaker, 5);
    clock.advance(1_000);
    admit(breaker); // lost: never reported
    clock.advance(4_999);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.state.kind).toBe('half-open');
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.state).toMatchObject({ kind: 'open', attempt: 1 });
    expect(opened.map((event) => event.reason)).toEqual(['threshold', 'probe-stalled']);
  });
});

describe('circuitBreaker: error filter', () => {
  const ignored: [string, unknown][] = [
    ['invalid input (422)', new ProviderResponseError('invalid-input', 'bad ip', { status: 422 })],
    ['rate limited (429)', new ProviderResponseError('rate-limited', 'slow down', { status: 429 })],
    ['quota exceeded', new ProviderResponseError('quota-exceeded', 'daily quota')],
    ['QuotaExhaustedError', new QuotaExhaustedError('local quota spent')],
  ];

  it.each(ignored)('%s is not a provider failure', (_label, error) => {
    const { breaker } = setup({ strategy: consecutiveFailures({ threshold: 1 }) });
    fail(breaker, 50, error);
    expect(breaker.state.kind).toBe('closed');
  });

  it.each([
    ['http 503', upstreamDown()],
    ['timeout', new TimeoutError()],
    ['network', new ProviderResponseError('network', 'ECONNRESET')],
    ['a plain Error', new Error('socket hang up')],
  ])('%s is a provider failure', (_label, error) => {
    const { breaker } = setup({ strategy: consecutiveFailures({ threshold: 1 }) });
    fail(breaker, 1, error);
    expect(breaker.state.kind).toBe('open');
  });

  it('an ignored error neither resets the failure count nor closes a half-open breaker', () => {
    const { breaker, clock } = setup({ strategy: consecutiveFailures({ threshold: 3 }) });
    const invalid = new ProviderResponseError('invalid-input', 'bad email', { status: 422 });
    fail(breaker, 2);
    fail(breaker, 1, invalid);
    fail(breaker);
    expect(breaker.state.kind).toBe('open');
    clock.advance(1_000);
    fail(breaker, 1, invalid); // gives the probe slot back
    expect(breaker.state.kind).toBe('half-open');
    succeed(breaker);
    expect(breaker.state.kind).toBe('closed');
  });

  it('takes a custom filter, and treats a throwing filter as "count it"', () => {
    const notFound = new ProviderResponseError('http', 'not found', { status: 404 });
    const custom = setup({
      strategy: consecutiveFailures({ threshold: 1 }),
      isFailure: (error) => !(error instanceof ProviderResponseError && error.status === 404),
    });
    fail(custom.breaker, 3, notFound);
    expect(custom.breaker.state.kind).toBe('closed');

    const broken = setup({
      strategy: consecutiveFailures({ threshold: 1 }),
      isFailure: () => {
        throw new Error('filter bug');
      },
    });
    fail(broken.breaker, 1, notFound);
    expect(broken.breaker.state.kind).toBe('open');
  });
});

describe('circuitBreaker: isolate / reset', () => {
  it('isolate() holds it open whatever the time, reset() closes it with a clean window', () => {
    const { breaker, clock } = setup({ strategy: consecutiveFailures({ threshold: 2 }) });
    fail(breaker);
    breaker.isolate();
    expect(breaker.state).toMatchObject({ kind: 'open', isolated: true, until: Number.POSITIVE_INFINITY });
    clock.advance(365 * 24 * 3_600_000);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.reset();
    expect(breaker.state.kind).toBe('closed');
    fail(breaker);
    expect(breaker.state.kind).toBe('closed'); // the failure before isolate() was forgotten
  });

  it('reset() on a closed breaker forgets recorded failures without an event', () => {
    const closes: BreakerCloseEvent[] = [];
    const { breaker } = setup({ strategy: consecutiveFailures({ threshold: 2 }) });
    breaker.on('close', (event) => closes.push(event));
    fail(breaker);
    breaker.reset();
    fail(breaker);
    expect(breaker.state.kind).toBe('closed');
    expect(closes).toEqual([]);
  });
});

describe('circuitBreaker: events', () => {
  it('emits one event per transition, named after what happened', () => {
    const { breaker, clock } = setup();
    const seen: string[] = [];
    breaker.on('open', (event: BreakerOpenEvent) => seen.push(`open:${event.reason}:${event.attempt}:${event.origin}`));
    breaker.on('half-open', (event: BreakerHalfOpenEvent) => seen.push(`half-open:${event.attempt}`));
    breaker.on('close', (event: BreakerCloseEvent) => seen.push(`close:${event.reason}:${event.origin}`));

    fail(breaker, 5);
    clock.advance(1_000);
    fail(breaker);
    clock.advance(2_000);
    succeed(breaker);
    breaker.isolate();
    breaker.reset();

    expect(seen).toEqual([
      'open:threshold:0:local',
      'half-open:0',
      'open:probe-failed:1:local',
      'half-open:1',
      'close:probes-succeeded:local',
      'open:isolated:0:local',
      'close:reset:local',
    ]);
  });

  it('carries name and times; unsubscribing stops delivery; a throwing listener harms nobody', () => {
    const { breaker, clock } = setup();
    const received: BreakerOpenEvent[] = [];
    breaker.on('open', () => {
      throw new Error('listener bug');
    });
    const stop = breaker.on('open', (event) => received.push(event));
    fail(breaker, 5);
    expect(received).toEqual([
      { name: 'test-provider', origin: 'local', reason: 'threshold', attempt: 0, at: 1_000_000, until: 1_001_000 },
    ]);
    stop();
    clock.advance(1_000);
    fail(breaker);
    expect(received).toHaveLength(1);
    expect(breaker.state.kind).toBe('open');
  });
});

describe('circuitBreaker: toJSON / initialState', () => {
  it('round-trips an open breaker with its backoff attempt through JSON', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.advance(1_000);
    fail(breaker);
    const restored = circuitBreaker({
      name: 'test-provider',
      now: clock.now,
      backoff: { initialMs: 1_000, multiplier: 2, maxMs: 8_000, jitter: 0 },
      initialState: JSON.parse(JSON.stringify(breaker)),
    });
    expect(restored.state).toEqual(breaker.state);
    clock.advance(2_000);
    fail(restored);
    expect(openPeriod(restored)).toBe(4_000);
  });

  it('round-trips the strategy window, so the restored breaker continues where it was', () => {
    const strategy = (): ReturnType<typeof countWindow> => countWindow({ size: 4, minimumCalls: 4, failureRate: 0.75 });
    const { breaker, clock } = setup({ strategy: strategy() });
    succeed(breaker);
    fail(breaker, 2);
    const restored = circuitBreaker({
      name: 'test-provider',
      now: clock.now,
      strategy: strategy(),
      initialState: JSON.parse(JSON.stringify(breaker.toJSON())),
    });
    expect(restored.toJSON()).toEqual(breaker.toJSON());
    fail(restored); // 3 of 4 failed
    expect(restored.state.kind).toBe('open');
  });

  it('round-trips isolation (Infinity travels as null)', () => {
    const { breaker, clock } = setup();
    breaker.isolate();
    const json = JSON.parse(JSON.stringify(breaker));
    expect(json.state.until).toBeNull();
    const restored = circuitBreaker({ name: 'test-provider', now: clock.now, initialState: json });
    expect(restored.state).toMatchObject({ kind: 'open', isolated: true, until: Number.POSITIVE_INFINITY });
    clock.advance(1e9);
    expect(restored.tryAcquire()).toBe(false);
  });

  it('restores half-open with fresh probe slots', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.advance(1_000);
    admit(breaker);
    const restored = circuitBreaker({ name: 'test-provider', now: clock.now, initialState: breaker.toJSON() });
    expect(restored.state.kind).toBe('half-open');
    succeed(restored);
    expect(restored.state.kind).toBe('closed');
  });

  it('rejects a state it did not write, and drops a strategy snapshot that does not fit', () => {
    const attempt = (): unknown => {
      try {
        circuitBreaker({ name: 'x', initialState: { version: 1, state: { kind: 'open' } } as never });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(isConfigurationError(attempt())).toBe(true);

    const { breaker } = setup({ strategy: countWindow({ size: 4, minimumCalls: 1 }) });
    fail(breaker, 1, new Error('x'));
    const restored = circuitBreaker({
      name: 'x',
      strategy: countWindow({ size: 8, minimumCalls: 1 }), // a different window size
      initialState: breaker.toJSON(),
    });
    expect(restored.state.kind).toBe('open');
    expect(restored.toJSON().strategy).toEqual({ kind: 'count-window', size: 8, outcomes: '' });
  });
});

describe('circuitBreaker: execute', () => {
  it('passes values and errors through and records them', async () => {
    const { breaker } = setup({ strategy: consecutiveFailures({ threshold: 2 }) });
    await expect(breaker.execute(async () => 42)).resolves.toBe(42);
    await expect(breaker.execute(() => 'sync value')).resolves.toBe('sync value');
    const thrown = upstreamDown();
    await expect(
      breaker.execute(() => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    await expect(breaker.execute(() => Promise.reject(thrown))).rejects.toBe(thrown);
    expect(breaker.state.kind).toBe('open');
    const first = await breaker.execute(() => 1).catch((error: unknown) => error);
    const second = await breaker.execute(() => 1).catch((error: unknown) => error);
    expect(first).toBe(second); // one shared CircuitOpenError: no stack capture per rejection
    expect(first).toBe(breaker.openError());
    // And one shared rejected promise, handled once: no rejection tracking per fast-fail.
    expect(breaker.execute(() => 1)).toBe(breaker.execute(() => 2));
    let called = false;
    await breaker.execute(() => (called = true)).catch(() => undefined);
    expect(called).toBe(false);
  });

  it('times the call with its clock for the slow-call rule', async () => {
    const { breaker, clock } = setup({ slowCallMs: 100, strategy: consecutiveFailures({ threshold: 1 }) });
    await breaker.execute(async () => clock.advance(99));
    expect(breaker.state.kind).toBe('closed');
    await breaker.execute(async () => clock.advance(100));
    expect(breaker.state.kind).toBe('open');
  });
});

describe('circuitBreaker: remote transitions', () => {
  it('opens for the announced period and closes on a remote close, with origin remote', () => {
    const { breaker, clock } = setup();
    const origins: string[] = [];
    breaker.on('open', (event) => origins.push(`open:${event.origin}:${event.reason}`));
    breaker.on('close', (event) => origins.push(`close:${event.origin}:${event.reason}`));
    breaker.applyRemote({ state: 'open', manual: false, openMs: 3_000 });
    expect(openPeriod(breaker)).toBe(3_000);
    breaker.applyRemote({ state: 'closed', manual: false });
    expect(breaker.state.kind).toBe('closed');
    breaker.applyRemote({ state: 'closed', manual: false }); // already closed: no event
    clock.advance(1);
    expect(origins).toEqual(['open:remote:remote', 'close:remote:remote']);
  });

  it('never shortens a local open period', () => {
    const { breaker } = setup();
    fail(breaker, 5);
    const before = breaker.state;
    breaker.applyRemote({ state: 'open', manual: false, openMs: 1 });
    expect(breaker.state).toBe(before);
  });

  it('isolation is lifted only by a manual close, wherever it came from', () => {
    const { breaker } = setup();
    breaker.applyRemote({ state: 'open', manual: true, openMs: 0 });
    expect(breaker.state).toMatchObject({ kind: 'open', isolated: true });
    breaker.applyRemote({ state: 'closed', manual: false });
    expect(breaker.state.kind).toBe('open');
    breaker.applyRemote({ state: 'closed', manual: true });
    expect(breaker.state.kind).toBe('closed');
  });
});

describe('circuitBreaker: options', () => {
  it('lists every invalid option at once', () => {
    let caught: unknown;
    try {
      circuitBreaker({
        name: '',
        slowCallMs: -1,
        halfOpen: { probes: 2, successThreshold: 3 },
        backoff: { initialMs: 10_000, maxMs: 1_000, jitter: 2 },
      });
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    const issues = (caught as { issues: readonly string[] }).issues.join('\n');
    for (const key of ['name', 'slowCallMs', 'halfOpen.successThreshold', 'backoff.maxMs', 'backoff.jitter']) {
      expect(issues).toContain(key);
    }
  });
});
