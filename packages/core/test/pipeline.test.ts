import { afterEach, describe, expect, it } from 'vitest';
import { consecutiveFailures, createFormSecurity, ProviderResponseError } from '../src/index.js';
import type { FormSecurity, FormSecurityConfig, Provider, ProviderResult, Subject } from '../src/index.js';

const SUBJECT: Subject = { ip: '203.0.113.7', email: 'someone@example.org' };
const HOUR = 3_600_000;

/** A remote provider whose behaviour the test switches between calls. */
function controllable(name = 'remote') {
  const state = {
    calls: 0,
    mode: 'ok' as 'ok' | 'fail' | 'hang' | 'slow' | 'rate-limited',
    delayMs: 0,
    score: 0.4,
    aborted: 0,
  };
  const provider: Provider = {
    name,
    facets: ['ip', 'email'],
    check(subject, { signal }) {
      state.calls++;
      signal.addEventListener('abort', () => state.aborted++);
      const answer: ProviderResult = { score: state.score, reasons: [`${name} scored`], data: { echoed: `seen ${subject.ip} / ${subject.email}` } };
      switch (state.mode) {
        case 'fail':
          return Promise.reject(new ProviderResponseError('http', `${name}: HTTP 503`, { status: 503 }));
        case 'rate-limited':
          return Promise.reject(new ProviderResponseError('rate-limited', `${name}: HTTP 429`, { status: 429, retryAfterMs: 60_000 }));
        case 'hang':
          return new Promise(() => undefined);
        case 'slow':
          return new Promise((resolve) => setTimeout(() => resolve(answer), state.delayMs));
        default:
          return Promise.resolve(answer);
      }
    },
  };
  return { provider, state };
}

const engines: FormSecurity[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

function engineWith(provider: Provider, clock: { now: number }, extra: Partial<FormSecurityConfig> = {}) {
  const engine = createFormSecurity({
    providers: [{ provider, breaker: { strategy: consecutiveFailures({ threshold: 5 }) } }],
    cache: { secret: 'a test cache secret of enough length', l2: false },
    clock: () => clock.now,
    policy: { budgetMs: 60 },
    ...extra,
  });
  engines.push(engine);
  return engine;
}

describe('cache in the pipeline', () => {
  it('answers from cache after the first call, then serves stale within grace when the provider fails', async () => {
    const { provider, state } = controllable();
    const clock = { now: Date.UTC(2026, 0, 1) };
    const engine = engineWith(provider, clock);

    expect((await engine.evaluate(SUBJECT)).signals['remote']?.status).toBe('fresh');
    const second = (await engine.evaluate(SUBJECT)).signals['remote'];
    expect(second).toMatchObject({ status: 'cached', score: 0.4 });
    expect(state.calls).toBe(1);

    clock.now += 25 * HOUR;
    state.mode = 'fail';
    const stale = await engine.evaluate(SUBJECT);
    expect(stale.signals['remote']).toMatchObject({ status: 'stale', score: 0.4, ageMs: 25 * HOUR });
    expect(stale.degraded).toBe(false);
    expect(state.calls).toBe(2);

    clock.now += 7 * 24 * HOUR;
    const expired = await engine.evaluate(SUBJECT);
    expect(expired.signals['remote']).toMatchObject({ status: 'error', code: 'FS_PROVIDER_RESPONSE' });
    expect(expired.degraded).toBe(true);
  });

  it('a route that refuses stale answers gets the failure instead', async () => {
    const { provider, state } = controllable();
    const clock = { now: Date.UTC(2026, 0, 1) };
    const engine = engineWith(provider, clock);
    await engine.evaluate(SUBJECT);
    clock.now += 25 * HOUR;
    state.mode = 'fail';
    const verdict = await engine.evaluate(SUBJECT, { acceptStale: false, require: ['remote'], onUnavailable: 'review' });
    expect(verdict.signals['remote']?.status).toBe('error');
    expect(verdict.decision).toBe('review');
  });

  it('a late answer is not awaited, yet fills the cache for the next request', async () => {
    const { provider, state } = controllable();
    state.mode = 'slow';
    state.delayMs = 150;
    const engine = engineWith(provider, { now: Date.now() });

    const first = await engine.evaluate(SUBJECT);
    expect(first.signals['remote']?.status).toBe('timeout');
    expect(first.durationMs).toBeLessThan(60 + 100);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await engine.evaluate(SUBJECT)).signals['remote']?.status).toBe('cached');
    expect(state.calls).toBe(1);
    expect(state.aborted).toBe(0);
  });

  it('cancels an upstream call at the provider timeout when nobody answers', async () => {
    const { provider, state } = controllable();
    state.mode = 'hang';
    const engine = createFormSecurity({
      providers: [{ provider, timeoutMs: 80 }],
      cache: { secret: 'a test cache secret of enough length', l2: false },
      policy: { budgetMs: 20 },
    });
    engines.push(engine);
    expect((await engine.evaluate(SUBJECT)).signals['remote']?.status).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(state.aborted).toBe(1);
  });

  it('200 concurrent evaluations of one subject make exactly one upstream call', async () => {
    const { provider, state } = controllable();
    state.mode = 'slow';
    state.delayMs = 20;
    const engine = engineWith(provider, { now: Date.now() }, { policy: { budgetMs: 2_000 } });
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => engine.evaluate(SUBJECT)));
    expect(state.calls).toBe(1);
    expect(verdicts.every((v) => v.signals['remote']?.score === 0.4)).toBe(true);
  });

  it('never keeps the raw IP or e-mail in what it caches', async () => {
    const { provider } = controllable();
    const engine = engineWith(provider, { now: Date.now() });
    await engine.evaluate(SUBJECT);
    const cached = await engine.evaluate(SUBJECT);
    expect(cached.signals['remote']?.status).toBe('cached');
    expect(JSON.stringify(cached.signals['remote'])).not.toMatch(/203\.0\.113\.7|someone@example\.org/);
    expect(cached.signals['remote']?.data).toEqual({ echoed: 'seen [subject] / [subject]' });
  });

  it('purging a subject makes the next evaluation ask the provider again', async () => {
    const { provider, state } = controllable();
    const engine = engineWith(provider, { now: Date.now() });
    await engine.evaluate(SUBJECT);
    await engine.purge({ subject: { email: SUBJECT.email as string } });
    expect((await engine.evaluate(SUBJECT)).signals['remote']?.status).toBe('fresh');
    expect(state.calls).toBe(2);
  });
});

describe('breaker, quota and bulkhead in the pipeline', () => {
  it('opens the breaker after repeated failures, then skips the provider and serves stale', async () => {
    const { provider, state } = controllable();
    const clock = { now: Date.UTC(2026, 0, 1) };
    const events: string[] = [];
    const engine = createFormSecurity({
      providers: [{ provider, breaker: { strategy: consecutiveFailures({ threshold: 5 }), backoff: { initialMs: 30_000, jitter: 0 } } }],
      cache: { secret: 'a test cache secret of enough length', l2: false },
      clock: () => clock.now,
    });
    engines.push(engine);
    engine.on('*', (event) => events.push(event.type));
    await engine.evaluate(SUBJECT);
    clock.now += 25 * HOUR;
    state.mode = 'fail';
    for (let i = 0; i < 5; i++) await engine.evaluate({ ...SUBJECT, email: `other${i}@example.org` });
    expect(events).toEqual(['breaker.open']);
    const callsWhenOpened = state.calls;
    const verdict = await engine.evaluate(SUBJECT);
    expect(state.calls).toBe(callsWhenOpened);
    expect(verdict.signals['remote']).toMatchObject({ status: 'stale' });
    const uncached = await engine.evaluate({ ip: '198.51.100.1' });
    expect(uncached.signals['remote']).toMatchObject({ status: 'circuit-open', code: 'FS_CIRCUIT_OPEN' });

    clock.now += 31_000;
    state.mode = 'ok';
    expect((await engine.evaluate({ ip: '198.51.100.2' })).signals['remote']?.status).toBe('fresh');
    expect(events).toEqual(['breaker.open', 'breaker.half-open', 'breaker.close']);
  });

  it('a 429 is a quota state: the signal says so and the breaker is not charged', async () => {
    const { provider, state } = controllable();
    state.mode = 'rate-limited';
    const events: string[] = [];
    const engine = createFormSecurity({
      providers: [{ provider, breaker: { strategy: consecutiveFailures({ threshold: 5 }) }, quota: { daily: { limit: 100 } } }],
      cache: false,
    });
    engines.push(engine);
    engine.on('*', (event) => events.push(event.type));
    for (let i = 0; i < 6; i++) {
      const signal = (await engine.evaluate({ ip: `198.51.100.${i}` })).signals['remote'];
      expect(signal?.status).toBe('quota-exhausted');
    }
    // The first 429 paused the provider: later calls never reached it.
    expect(state.calls).toBe(1);
    expect(events).toContain('quota.paused');
    expect(events).not.toContain('breaker.open');
  });

  it('a spent daily quota turns into quota-exhausted signals without upstream calls', async () => {
    const { provider, state } = controllable();
    const engine = createFormSecurity({ providers: [{ provider, quota: { daily: { limit: 3 } } }], cache: false });
    engines.push(engine);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await engine.evaluate({ ip: `198.51.100.${i}` })).signals['remote']?.status);
    expect(statuses).toEqual(['fresh', 'fresh', 'fresh', 'quota-exhausted', 'quota-exhausted']);
    expect(state.calls).toBe(3);
  });

  it('a full bulkhead rejects at once with a signal, not an error', async () => {
    const { provider, state } = controllable();
    state.mode = 'hang';
    const engine = createFormSecurity({
      providers: [{ provider, bulkhead: { maxConcurrent: 2 }, timeoutMs: 200 }],
      cache: false,
      policy: { budgetMs: 50 },
    });
    engines.push(engine);
    const verdicts = await Promise.all([1, 2, 3].map((i) => engine.evaluate({ ip: `198.51.100.${i}` })));
    const codes = verdicts.map((v) => v.signals['remote']?.code).sort();
    expect(codes).toEqual(['FS_BULKHEAD_FULL', 'FS_TIMEOUT', 'FS_TIMEOUT']);
    expect(state.calls).toBe(2);
  });
});

describe('moderator feedback', () => {
  it('forwards spam/ham to providers that accept it, through their guards, and forgets the subject', async () => {
    const { provider, state } = controllable('akismet-like');
    const reports: string[] = [];
    const withReport: Provider = {
      ...provider,
      async report(subject, kind) {
        reports.push(`${kind}:${subject.email}`);
      },
    };
    const other = controllable('no-feedback');
    const engine = createFormSecurity({
      providers: [withReport, other.provider],
      cache: { secret: 'a test cache secret of enough length', l2: false },
    });
    engines.push(engine);
    await engine.evaluate(SUBJECT);
    expect(await engine.report(SUBJECT, 'spam')).toEqual({ 'akismet-like': 'sent' });
    expect(reports).toEqual(['spam:someone@example.org']);
    // The subject's cached verdicts were purged: the next check asks again.
    expect((await engine.evaluate(SUBJECT)).signals['akismet-like']?.status).toBe('fresh');
    expect(state.calls).toBe(2);
  });

  it('a failing or refused report is an outcome, never a rejection', async () => {
    const failing: Provider = {
      name: 'down',
      async check() {
        return { score: 0 };
      },
      async report() {
        throw new ProviderResponseError('http', 'down: HTTP 503', { status: 503 });
      },
    };
    const engine = createFormSecurity({ providers: [{ provider: failing, quota: { daily: { limit: 1 } } }], cache: false });
    engines.push(engine);
    expect(await engine.report(SUBJECT, 'ham')).toEqual({ down: { failed: 'FS_PROVIDER_RESPONSE' } });
    // The quota counted that call: the next report is refused before reaching the service.
    expect(await engine.report(SUBJECT, 'ham')).toEqual({ down: { failed: 'FS_QUOTA_EXHAUSTED' } });
  });
});

describe("a provider's documented limits", () => {
  it('are enforced by default, and `quota: false` turns them off', async () => {
    const limited = controllable('limited');
    const unlimited = controllable('unlimited');
    const withLimits = (p: Provider): Provider => ({ ...p, defaults: { limits: { daily: 2 } } });
    const engine = createFormSecurity({
      providers: [withLimits(limited.provider), { provider: withLimits(unlimited.provider), quota: false }],
      cache: false,
    });
    engines.push(engine);
    const statuses: (string | undefined)[][] = [];
    for (let i = 0; i < 3; i++) {
      const { signals } = await engine.evaluate({ ip: `198.51.100.${i}` });
      statuses.push([signals['limited']?.status, signals['unlimited']?.status]);
    }
    expect(statuses).toEqual([
      ['fresh', 'fresh'],
      ['fresh', 'fresh'],
      ['quota-exhausted', 'fresh'],
    ]);
  });
});
