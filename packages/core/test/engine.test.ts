import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFormSecurity, createGate, DECISIONS, isConfigurationError } from '../src/index.js';
import type { Decision, GateResult, Provider, ProviderResult, Subject } from '../src/index.js';

const SUBJECT: Subject = { ip: '203.0.113.7', email: 'someone@example.org' };

function fixed(name: string, score: number, extra: Partial<Provider> = {}): Provider {
  return { name, async check() { return { score, reasons: [`${name} says ${score}`] }; }, ...extra };
}

function failing(name: string): Provider {
  return { name, async check() { throw new Error('upstream exploded with key=SECRET123'); } };
}

/** A provider that never answers, recording whether its AbortSignal fired. */
function hanging(name: string) {
  const seen = { aborted: false, reason: undefined as unknown };
  const provider: Provider = {
    name,
    check(_subject, { signal }) {
      return new Promise<ProviderResult>(() => {
        signal.addEventListener('abort', () => {
          seen.aborted = true;
          seen.reason = signal.reason;
        });
      });
    },
  };
  return { provider, seen };
}

describe('aggregation and degradation', () => {
  const cases: { onUnavailable: Decision; requiredPresent: boolean; otherScore: number; expected: Decision; degraded: boolean }[] = [];
  for (const onUnavailable of DECISIONS) {
    cases.push({ onUnavailable, requiredPresent: true, otherScore: 0, expected: 'allow', degraded: false });
    cases.push({ onUnavailable, requiredPresent: false, otherScore: 0, expected: onUnavailable, degraded: true });
    // A stronger finding from another provider is never softened by onUnavailable.
    cases.push({ onUnavailable, requiredPresent: false, otherScore: 0.9, expected: 'block', degraded: true });
  }

  it.each(cases)(
    'onUnavailable=$onUnavailable, required present=$requiredPresent, other=$otherScore -> $expected',
    async ({ onUnavailable, requiredPresent, otherScore, expected, degraded }) => {
      const engine = createFormSecurity({
        providers: [requiredPresent ? fixed('required', 0) : failing('required'), fixed('other', otherScore)],
        policy: { require: ['required'], onUnavailable },
      });
      const verdict = await engine.evaluate(SUBJECT);
      expect(verdict.decision).toBe(expected);
      expect(verdict.degraded).toBe(degraded);
      expect(verdict.signals['required']?.status).toBe(requiredPresent ? 'fresh' : 'error');
      if (!requiredPresent) expect(verdict.reasons.join('\n')).toContain('required provider required');
    },
  );

  it('combines scores as independent evidence (noisy-OR) with weights', async () => {
    const engine = createFormSecurity({
      providers: [{ provider: fixed('a', 0.5), weight: 1 }, { provider: fixed('b', 0.5), weight: 0.5 }],
    });
    const verdict = await engine.evaluate(SUBJECT);
    expect(verdict.score).toBeCloseTo(1 - 0.5 * 0.75, 10);
    expect(verdict.decision).toBe('challenge');
    expect(verdict.reasons).toEqual(['a says 0.5', 'b says 0.5']);
  });

  it('maps scores to decisions through configurable thresholds', async () => {
    const score = 0.4;
    const strict = createFormSecurity({ providers: [fixed('a', score)], thresholds: { block: 0.4, challenge: 0.35 } });
    const lenient = createFormSecurity({ providers: [fixed('a', score)] });
    expect((await strict.evaluate(SUBJECT)).decision).toBe('block');
    expect((await lenient.evaluate(SUBJECT)).decision).toBe('review');
  });

  it('an optional provider failing marks the verdict degraded without changing the decision', async () => {
    const engine = createFormSecurity({ providers: [failing('optional'), fixed('ok', 0)], policy: { onUnavailable: 'block' } });
    const verdict = await engine.evaluate(SUBJECT);
    expect(verdict.decision).toBe('allow');
    expect(verdict.degraded).toBe(true);
  });

  it('skips a provider whose facets the subject lacks, without degrading', async () => {
    const engine = createFormSecurity({ providers: [fixed('email-only', 1, { facets: ['email'] })] });
    const verdict = await engine.evaluate({ ip: '203.0.113.7' });
    expect(verdict.signals['email-only']?.status).toBe('skipped');
    expect(verdict).toMatchObject({ decision: 'allow', degraded: false });
  });

  it('a required provider with nothing to check counts as unavailable', async () => {
    const engine = createFormSecurity({ providers: [fixed('email-only', 0, { facets: ['email'] })] });
    const verdict = await engine.evaluate({ ip: '203.0.113.7' }, { require: ['email-only'], onUnavailable: 'review' });
    expect(verdict).toMatchObject({ decision: 'review', degraded: true });
  });

  it('carries subject issues into the reasons', async () => {
    const engine = createFormSecurity();
    const verdict = await engine.evaluate({ issues: ['email: not a valid address, left out'] });
    expect(verdict.reasons).toContain('email: not a valid address, left out');
    expect(verdict.decision).toBe('allow');
  });
});

describe('deadline', () => {
  it('answers within the budget when a provider never does, and aborts its signal at the deadline', async () => {
    const { provider, seen } = hanging('slow');
    // Without a cache nothing could use a late answer, so the call is cancelled at the deadline.
    const engine = createFormSecurity({ providers: [provider, fixed('fast', 0.1)], policy: { budgetMs: 50 }, cache: false });
    const started = performance.now();
    const verdict = await engine.evaluate(SUBJECT);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(50 + 250); // generous slack: shared, noisy machines
    expect(verdict.signals['slow']).toMatchObject({ status: 'timeout', code: 'FS_TIMEOUT' });
    expect(verdict.signals['fast']?.status).toBe('fresh');
    expect(seen.aborted).toBe(true);
    expect((seen.reason as { code?: string }).code).toBe('FS_TIMEOUT');
  });

  it('a route budget overrides the engine default', async () => {
    const { provider } = hanging('slow');
    const engine = createFormSecurity({ providers: [provider], policy: { budgetMs: 5_000 } });
    const started = performance.now();
    await engine.evaluate(SUBJECT, { budgetMs: 20 });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('decides every verdict due together before any caller goes on with its own work', async () => {
    const { provider } = hanging('slow');
    const engine = createFormSecurity({ providers: [provider], policy: { budgetMs: 40 }, cache: false });
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // a caller rendering its page
      }
    };
    // Ten requests at once, each of whose callers works 5 ms after its verdict: one after
    // the other, the tenth verdict would come 45 ms past its deadline.
    const verdicts = await Promise.all(
      Array.from({ length: 10 }, () =>
        engine.evaluate(SUBJECT).then((verdict) => {
          busy(5);
          return verdict;
        }),
      ),
    );
    const latest = Math.max(...verdicts.map((verdict) => verdict.durationMs));
    expect(latest).toBeLessThan(40 + 25); // generous slack for a shared machine, well under 40 + 45
    await engine.close();
  });

  it('gives an evaluation still waiting when the engine closes its verdict at once', async () => {
    const { provider } = hanging('slow');
    const engine = createFormSecurity({ providers: [provider], policy: { budgetMs: 30_000 }, cache: false });
    const pending = engine.evaluate(SUBJECT);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    await engine.close();
    const verdict = await pending;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(verdict.signals['slow']).toMatchObject({ status: 'timeout' });
  });

  it('creates no deadline timer when every provider answers at once', async () => {
    const engine = createFormSecurity({ providers: [fixed('a', 0)] });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await engine.evaluate(SUBJECT);
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBe(before);
  });
});

describe('timers left behind', () => {
  it('stops a cached call\'s own timeout once the call has answered', async () => {
    const signals: AbortSignal[] = [];
    const remote: Provider = {
      name: 'remote',
      facets: ['ip'],
      async check(_subject, { signal }) {
        signals.push(signal);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { score: 0 };
      },
    };
    const engine = createFormSecurity({
      providers: [{ provider: remote, timeoutMs: 40 }],
      cache: { secret: 'a test cache secret of enough length', l2: false },
    });
    const verdict = await engine.evaluate(SUBJECT);
    expect(verdict.signals['remote']?.status).toBe('fresh');
    // Past the call's own 40 ms timeout: an answered call's timer must be gone, not fire.
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    await engine.close();
  });
});

describe('answers that need no waiting', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('decides from synchronous local answers and L1 hits without arming a timer or an AbortController', async () => {
    let remoteCalls = 0;
    const remote: Provider = { name: 'remote', facets: ['ip'], async check() { remoteCalls++; return { score: 0.2, reasons: ['remote says 0.2'] }; } };
    const local: Provider = { name: 'local', local: true, facets: ['ip'], check: () => ({ score: 0.5, reasons: ['local says 0.5'] }) };
    const engine = createFormSecurity({ providers: [remote, local], cache: { secret: 'a test cache secret of enough length', l2: false } });
    await engine.evaluate(SUBJECT);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const controllers = vi.spyOn(AbortController.prototype, 'abort');
    const warm = await engine.evaluate(SUBJECT);
    expect(timers).not.toHaveBeenCalled();
    expect(controllers).not.toHaveBeenCalled();
    expect(remoteCalls).toBe(1);
    expect(warm.signals['remote']).toMatchObject({ status: 'cached', score: 0.2 });
    expect(warm.signals['local']).toMatchObject({ status: 'fresh', score: 0.5 });
    expect(warm.score).toBeCloseTo(1 - 0.8 * 0.5);
    await engine.close();
  });

  it('reads each clock once for all the answers from cache in a warm evaluation', async () => {
    let monotonicReads = 0;
    let wallReads = 0;
    const remote = (name: string): Provider => ({ name, facets: ['ip'], async check() { return { score: 0.1 }; } });
    const local: Provider = { name: 'local', local: true, facets: ['ip'], check: () => ({ score: 0 }) };
    const engine = createFormSecurity({
      providers: [remote('a'), remote('b'), remote('c'), local],
      cache: { secret: 'a test cache secret of enough length', l2: false },
      now: () => (monotonicReads++, performance.now()),
      clock: () => (wallReads++, Date.now()),
    });
    await engine.evaluate(SUBJECT);
    monotonicReads = 0;
    wallReads = 0;
    const warm = await engine.evaluate(SUBJECT);
    expect(Object.values(warm.signals).map((signal) => signal.status)).toEqual(['cached', 'cached', 'cached', 'fresh']);
    // The start, the three answers from cache together, the local answer, the verdict.
    expect(monotonicReads).toBe(4);
    // Lookup, freshness and age of all three entries.
    expect(wallReads).toBe(1);
    expect(warm.signals['a']?.latencyMs).toBe(warm.signals['c']?.latencyMs);
    expect(warm.signals['a']?.ageMs).toBeGreaterThanOrEqual(0);
    await engine.close();
  });

  it('lets an adapter go on in the same turn when nothing had to wait, and only then', async () => {
    let answer: ProviderResult | Promise<ProviderResult> = { score: 0.1 };
    const local: Provider = { name: 'local', local: true, facets: ['ip'], check: () => answer };
    const gate = createGate({ engine: createFormSecurity({ providers: [local] }) });
    const request = { remoteAddress: '203.0.113.7', headers: {} };
    const now = gate.checkNow(request);
    expect(now).not.toBeInstanceOf(Promise);
    expect((now as GateResult).verdict.signals['local']).toMatchObject({ status: 'fresh', score: 0.1 });
    answer = Promise.resolve({ score: 0.2 });
    const later = gate.checkNow(request);
    expect(later).toBeInstanceOf(Promise);
    expect((await later).verdict.score).toBeCloseTo(0.2);
    // check() is the same answer, always as a promise.
    expect((await gate.check(request)).verdict.score).toBeCloseTo(0.2);
  });

  it('still holds a local provider that returns a promise to the deadline', async () => {
    const local: Provider = { name: 'slow-local', local: true, check: () => new Promise<ProviderResult>(() => undefined) };
    const engine = createFormSecurity({ providers: [local], policy: { budgetMs: 30 } });
    const verdict = await engine.evaluate(SUBJECT);
    expect(verdict.signals['slow-local']?.status).toBe('timeout');
  });
});

describe('providers that misbehave', () => {
  const misbehaving: [string, Provider['check']][] = [
    ['throws synchronously', () => { throw new TypeError('sync boom'); }],
    ['rejects', async () => { throw new Error('async boom'); }],
    ['rejects with a non-error', () => Promise.reject('a string')],
    ['resolves undefined', async () => undefined as unknown as ProviderResult],
    ['resolves a score above 1', async () => ({ score: 7 })],
    ['resolves NaN', async () => ({ score: Number.NaN })],
    ['resolves reasons that are not strings', async () => ({ score: 0.1, reasons: [1, 2] as unknown as string[] })],
    ['resolves data that is an array', async () => ({ score: 0.1, data: [] as unknown as Record<string, unknown> })],
    ['returns a score above 1 synchronously', () => ({ score: 7 })],
    ['returns undefined synchronously', () => undefined as unknown as ProviderResult],
  ];

  const cases = [false, true].flatMap((local) => misbehaving.map(([label, check]) => [`${local ? 'local' : 'remote'} provider that ${label}`, check, local] as const));

  it.each(cases)('a %s becomes an error signal; others stay intact', async (_label, check, local) => {
    const engine = createFormSecurity({ providers: [{ name: 'bad', check, local }, fixed('good', 0.2)] });
    const verdict = await engine.evaluate(SUBJECT);
    expect(verdict.signals['bad']?.status).toBe('error');
    expect(verdict.signals['bad']?.code).toMatch(/^FS_/);
    expect(verdict.signals['good']).toMatchObject({ status: 'fresh', score: 0.2 });
  });

  it('never repeats a foreign error message, which might quote a secret', async () => {
    const engine = createFormSecurity({ providers: [failing('leaky')] });
    const verdict = await engine.evaluate(SUBJECT);
    expect(JSON.stringify(verdict)).not.toContain('SECRET123');
  });
});

describe('configuration', () => {
  it('rejects duplicate names, bad weights and unordered thresholds, naming each key', () => {
    const attempt = () =>
      createFormSecurity({
        providers: [fixed('a', 0), fixed('a', 0), { provider: fixed('b', 0), weight: 2 }],
        thresholds: { review: 0.9, block: 0.5 },
      });
    expect(attempt).toThrow(/providers\[1\]\.name: "a" is registered twice[\s\S]*providers\[2\]\.weight/);
  });

  it('validates route policies at set-up with every problem listed', () => {
    const engine = createFormSecurity({ providers: [fixed('a', 0)] });
    try {
      engine.resolvePolicy({ providers: ['nope'], budgetMs: -1, onUnavailable: 'explode' as Decision });
      expect.unreachable();
    } catch (error) {
      expect(isConfigurationError(error)).toBe(true);
      const issues = (error as { issues: string[] }).issues;
      expect(issues).toHaveLength(3);
      expect(issues.join('\n')).toMatch(/policy\.providers: unknown provider "nope"/);
    }
  });

  it('an invalid route policy given straight to evaluate becomes a degraded verdict, not a throw', async () => {
    const engine = createFormSecurity({ providers: [fixed('a', 0)] });
    const verdict = await engine.evaluate(SUBJECT, { budgetMs: 'soon' as unknown as number });
    expect(verdict.degraded).toBe(true);
    expect(verdict.reasons.join()).toContain('policy.budgetMs');
  });
});
