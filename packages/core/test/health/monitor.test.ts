import { afterEach, describe, expect, it } from 'vitest';
import { createHealthMonitor, healthMonitor } from '../../src/health/index.js';
import type { HealthEvent, HealthMonitorOptions } from '../../src/health/index.js';
import { consecutiveFailures, createFormSecurity, isConfigurationError } from '../../src/index.js';
import type { FormSecurity, FormSecurityConfig, ProviderRegistration } from '../../src/index.js';
import { freshSubject, manualClock, recordingLogger, scriptedProvider } from './support.js';

const SECRET = 'health-test-secret-0123456789abcdef';
const engines: FormSecurity[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

type Registration = Omit<ProviderRegistration, 'provider'>;

/** An engine with one scripted provider, a monitor and the shared clock, all on a manual clock. */
function setup(registration: Registration = {}, monitorOptions: HealthMonitorOptions = {}, config: Partial<FormSecurityConfig> = {}) {
  const clock = manualClock();
  const remote = scriptedProvider('remote', clock);
  const { logger, lines } = recordingLogger();
  const engine = createFormSecurity({
    providers: [{ provider: remote.provider, ...registration }],
    cache: { secret: SECRET },
    clock: clock.now,
    now: clock.now,
    logger,
    policy: { budgetMs: 50 },
    ...config,
  });
  engines.push(engine);
  const monitor = createHealthMonitor(engine, { now: clock.now, refreshIntervalMs: false, ...monitorOptions });
  const events: HealthEvent[] = [];
  monitor.on('*', (event) => events.push(event));
  const submit = async (times = 1, subject: { email: string } = freshSubject()) => {
    for (let i = 0; i < times; i++) await engine.evaluate(times === 1 ? subject : freshSubject());
  };
  return { clock, remote, engine, monitor, events, lines, submit };
}

const NO_BREAKER: Registration = { breaker: false, quota: false };

describe('health snapshot', () => {
  it('reports counts per window, latency quantiles, quota, spend, cache hit ratio and the last error', async () => {
    const { clock, remote, monitor, engine, submit } = setup({ breaker: false, quota: { daily: { limit: 20 }, costPerCall: 0.5 } });
    const started = clock.now();
    remote.state.latencyMs = 5;
    await submit(10);
    const repeated = freshSubject();
    await submit(1, repeated);
    await engine.evaluate(repeated); // answered by the cache
    remote.state.behaviour = 'fail';
    remote.state.latencyMs = 30;
    await submit(2);
    const failedAt = clock.now();
    clock.advance(2 * 60_000);
    remote.state.behaviour = 'ok';
    remote.state.latencyMs = 50;
    await submit(4);

    const health = await monitor.snapshot();
    const provider = health.providers[0]!;
    expect(provider.name).toBe('remote');

    // The last minute holds only the last four calls; five minutes hold all of them.
    expect(provider.calls['1m']).toMatchObject({ calls: 4, fresh: 4, cached: 0, failures: 0, failureRate: 0 });
    expect(provider.calls['5m']).toMatchObject({ calls: 18, fresh: 15, cached: 1, failures: 2, timeouts: 0, rejected: 0 });
    expect(provider.calls['5m'].failureRate).toBeCloseTo(2 / 17, 10);
    expect(provider.calls['5m'].cacheHitRatio).toBeCloseTo(1 / 18, 10);

    const near = (value: number | null, expected: number) => Math.abs((value as number) - expected) / expected;
    expect(near(provider.latencyMs['1m'].p50, 50)).toBeLessThanOrEqual(0.02);
    expect(near(provider.latencyMs['5m'].p50, 5)).toBeLessThanOrEqual(0.02);
    expect(near(provider.latencyMs['5m'].p99, 50)).toBeLessThanOrEqual(0.02);
    expect(provider.latencyMs['5m'].count).toBe(17);

    // 17 calls reached the quota (the cached answer did not), at 0.5 each.
    const daily = provider.quota?.windows.find((w) => w.period === 'daily' && w.unit === 'calls');
    expect(daily).toMatchObject({ limit: 20, used: 17, remaining: 3, remainingShare: 0.15 });
    expect(daily?.resetAtMs).toBeGreaterThan(started);
    expect(provider.quota?.spend.daily).toBe(8.5);

    expect(provider.lastError?.code).toBe('FS_PROVIDER_RESPONSE');
    expect(provider.lastError?.message).toContain('[ip]');
    expect(JSON.stringify(health)).not.toContain('203.0.113.9');
    expect(provider.lastError?.at).toBe(failedAt);

    expect(health.cache?.l2).toBe('up');
    expect(health.cache?.hitRatio.l1).toBeCloseTo(1 / 18, 10);
    expect(provider.breaker).toBeNull();
    expect(health.status).toBe('ok');
    expect(health.reasons).toEqual([]);
  });

  it('shows breaker state and since when, and the engine down while its only remote provider is', async () => {
    const { clock, remote, monitor, events, submit } = setup({
      breaker: { strategy: consecutiveFailures({ threshold: 3 }), backoff: { initialMs: 1_000, jitter: 0 } },
      quota: false,
    });
    const opened = clock.now();
    expect((await monitor.snapshot()).providers[0]?.breaker).toMatchObject({ state: 'closed' });

    remote.state.behaviour = 'fail';
    remote.state.latencyMs = 0;
    await submit(3);
    let health = await monitor.snapshot();
    expect(health.providers[0]?.breaker).toEqual({ state: 'open', sinceMs: opened, untilMs: opened + 1_000, isolated: false });
    expect(health.providers[0]?.status).toBe('down');
    expect(health.providers[0]?.reasons).toContain('breaker open');
    expect(health.status).toBe('down');
    await submit(2);
    expect((await monitor.snapshot()).providers[0]?.calls['1m']).toMatchObject({ failures: 3, rejected: 2 });

    clock.advance(1_000);
    remote.state.behaviour = 'ok';
    await submit(1);
    health = await monitor.snapshot();
    expect(health.providers[0]?.breaker).toMatchObject({ state: 'closed', sinceMs: opened + 1_000 });
    expect(health.status).toBe('ok');
    expect(events.map((e) => e.type)).toEqual(['breaker.open', 'breaker.half-open', 'breaker.close']);
    expect(events[0]).toMatchObject({ provider: 'remote', reason: 'threshold', at: opened, repeated: 0 });
    // The snapshot lists them newest first.
    expect(health.events.map((e) => e.type)).toEqual(['breaker.close', 'breaker.half-open', 'breaker.open']);
  });

  it('counts deadline timeouts as failures and timeouts', async () => {
    const { remote, monitor, submit } = setup(NO_BREAKER, {}, { policy: { budgetMs: 10 } });
    remote.state.behaviour = 'hang';
    await submit(2);
    const health = await monitor.snapshot();
    expect(health.providers[0]?.calls['1m']).toMatchObject({ calls: 2, failures: 2, timeouts: 2 });
    expect(health.providers[0]?.lastError?.code).toBe('FS_TIMEOUT');
  });

  it('keeps local providers out of the breaker and quota parts, and an engine without providers ok', async () => {
    const engine = createFormSecurity({ providers: [{ name: 'honeypot', local: true, check: async () => ({ score: 0 }) }] });
    engines.push(engine);
    const monitor = healthMonitor(engine);
    await engine.evaluate({ fields: { website: '' } });
    const health = await monitor.snapshot();
    expect(health.providers[0]).toMatchObject({ name: 'honeypot', local: true, breaker: null, quota: null, status: 'ok' });
    expect(health.providers[0]?.calls['1m'].fresh).toBe(1);
    expect(health.cache).toBeNull();
    expect(health.status).toBe('ok');

    const empty = createFormSecurity();
    engines.push(empty);
    expect((await healthMonitor(empty).snapshot()).status).toBe('ok');
  });
});

describe('alerts', () => {
  it('raises provider.degraded from the failure share over the window, and provider.recovered', async () => {
    const { remote, monitor, events, lines, submit } = setup(NO_BREAKER);
    remote.state.latencyMs = 1;
    await submit(6);
    remote.state.behaviour = 'fail';
    await submit(3); // 3 of 9: not judged yet, fewer than 10 calls
    expect(events).toEqual([]);
    await submit(1); // 4 of 10 failed
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'provider.degraded', provider: 'remote', failureRate: 0.4, calls: 10 });
    const health = await monitor.snapshot();
    expect(health.providers[0]).toMatchObject({ status: 'degraded', degraded: true });
    expect(health.status).toBe('degraded');

    remote.state.behaviour = 'ok';
    await submit(4);
    expect(events).toHaveLength(1);
    await submit(1); // five successes in a row
    expect(events.map((e) => e.type)).toEqual(['provider.degraded', 'provider.recovered']);
    expect((await monitor.snapshot()).providers[0]?.status).toBe('ok');
    // The failures before the recovery do not count again.
    await submit(10);
    expect(events).toHaveLength(2);

    // Each change is logged once, by the monitor.
    expect(lines.filter((l) => l.message === 'provider degraded').map((l) => l.level)).toEqual(['warn']);
    expect(lines.filter((l) => l.message === 'provider recovered').map((l) => l.level)).toEqual(['info']);
  });

  it('forgets failures older than the window', async () => {
    const { clock, remote, events, submit } = setup(NO_BREAKER);
    remote.state.behaviour = 'fail';
    await submit(5);
    clock.advance(61_000);
    remote.state.behaviour = 'ok';
    await submit(10);
    expect(events).toEqual([]);
  });

  it('raises quota.low once when a window falls under the low share, then quota.exhausted', async () => {
    const { remote, monitor, events, lines, submit } = setup({ breaker: false, quota: { daily: { limit: 10 } } }, { quotaLowShare: 0.25 });
    remote.state.latencyMs = 1;
    await submit(7);
    await monitor.refresh();
    expect(events).toEqual([]);
    await submit(1);
    await monitor.refresh();
    await monitor.snapshot();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'quota.low', provider: 'remote', window: 'daily calls', remaining: 2, limit: 10 });
    expect(lines.filter((l) => l.message === 'quota low')).toHaveLength(1);
    let health = await monitor.snapshot();
    expect(health.providers[0]?.status).toBe('degraded');
    expect(health.providers[0]?.reasons).toContain('daily calls quota low');

    await submit(3); // two more calls use it up; the third is refused
    health = await monitor.snapshot();
    expect(events.map((e) => e.type)).toEqual(['quota.low', 'quota.exhausted']);
    expect(events[1]).toMatchObject({ provider: 'remote', window: 'daily calls', reserveOnly: false });
    expect(health.providers[0]).toMatchObject({ status: 'down' });
    expect(health.providers[0]?.reasons).toContain('daily calls quota used up');
    expect(health.providers[0]?.calls['1m'].rejected).toBe(1);
  });

  it('sends one notice per kind and provider during the cool-down, then the latest state with the count', async () => {
    const { clock, remote, monitor, events, submit } = setup(
      { breaker: { strategy: consecutiveFailures({ threshold: 1 }), backoff: { initialMs: 100, multiplier: 1, jitter: 0 } }, quota: false },
      { cooldownMs: 60_000 },
    );
    remote.state.latencyMs = 0;
    const flap = async () => {
      remote.state.behaviour = 'fail';
      await submit(1); // opens
      clock.advance(100);
      remote.state.behaviour = 'ok';
      await submit(1); // half-open probe succeeds: closes
    };
    await flap();
    await flap();
    await flap();
    remote.state.behaviour = 'fail';
    await submit(1); // open again, and stays open
    expect(events.map((e) => e.type)).toEqual(['breaker.open', 'breaker.half-open', 'breaker.close']);

    clock.advance(30_000);
    await monitor.refresh();
    expect(events).toHaveLength(3);
    clock.advance(30_000);
    await monitor.refresh();
    // Only the open breaker is announced: the held-back half-open and close are out of date.
    expect(events.map((e) => e.type)).toEqual(['breaker.open', 'breaker.half-open', 'breaker.close', 'breaker.open']);
    expect(events[3]?.repeated).toBe(2);
    expect((await monitor.snapshot()).providers[0]?.breaker?.state).toBe('open');
  });

  it('passes on cache.l2.down and cache.l2.up, and the engine is degraded meanwhile', async () => {
    const { Keyv } = await import('keyv');
    const entries = new Map<string, unknown>();
    let broken = false;
    const fail = () => Promise.reject(Object.assign(new Error('store unreachable'), { code: 'ECONNREFUSED' }));
    const store = {
      get: (key: string) => (broken ? fail() : Promise.resolve(entries.get(key))),
      set: (key: string, value: unknown) => (broken ? fail() : Promise.resolve(void entries.set(key, value))),
      delete: (key: string) => (broken ? fail() : Promise.resolve(entries.delete(key))),
      clear: () => Promise.resolve(entries.clear()),
    };
    const { remote, monitor, events, submit } = setup(NO_BREAKER, {}, {
      cache: { secret: SECRET, l2: new Keyv({ store, throwOnErrors: true }), l2FailureThreshold: 1, l2OpenMs: 20 },
    });
    remote.state.latencyMs = 0;
    await submit(1);
    expect((await monitor.snapshot()).cache?.l2).toBe('up');

    broken = true;
    await submit(2);
    let health = await monitor.snapshot();
    expect(events.map((e) => e.type)).toEqual(['cache.l2.down']);
    expect(health.cache?.l2).toBe('down');
    expect(health.status).toBe('degraded');
    expect(health.reasons).toContain('cache L2 down: serving from L1 only');

    broken = false;
    for (let i = 0; i < 50 && events.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      await submit(1);
    }
    health = await monitor.snapshot();
    expect(events.map((e) => e.type)).toEqual(['cache.l2.down', 'cache.l2.up']);
    expect(health.cache?.l2).toBe('up');
    expect(health.status).toBe('ok');
  });
});

describe('logging', () => {
  it('logs each state change once and nothing per request at info or above', async () => {
    const { remote, lines, submit } = setup({
      breaker: { strategy: consecutiveFailures({ threshold: 12 }), backoff: { initialMs: 1_000, jitter: 0 } },
      quota: false,
    });
    remote.state.latencyMs = 1;
    await submit(30);
    expect(lines.filter((l) => l.level !== 'debug')).toEqual([]);

    remote.state.behaviour = 'fail';
    await submit(15);
    const loud = lines.filter((l) => l.level !== 'debug').map((l) => `${l.level} ${l.message}`);
    // The engine logs the breaker; the monitor logs only what it decides itself.
    expect(loud).toEqual(['warn provider degraded', 'warn circuit breaker open']);
    expect(JSON.stringify(lines)).not.toContain('203.0.113.9');
  });
});

describe('monitor set-up', () => {
  it('is one per engine: shared by healthMonitor, refused twice, replaceable after close', () => {
    const clock = manualClock();
    const engine = createFormSecurity({ providers: [scriptedProvider('remote', clock).provider], cache: { secret: SECRET } });
    engines.push(engine);
    const first = createHealthMonitor(engine, { refreshIntervalMs: false });
    expect(healthMonitor(engine)).toBe(first);
    expect(() => createHealthMonitor(engine)).toThrow(/already has a monitor/);
    first.close();
    expect(healthMonitor(engine)).not.toBe(first);
  });

  it('stops observing after close', async () => {
    const { monitor, submit } = setup(NO_BREAKER);
    await submit(2);
    monitor.close();
    await submit(3);
    expect((await monitor.snapshot()).providers[0]?.calls['1m'].calls).toBe(2);
  });

  it('names each wrong option', () => {
    const engine = createFormSecurity();
    engines.push(engine);
    let caught: unknown;
    try {
      createHealthMonitor(engine, { slowCallMs: -1, quotaLowShare: 2, degradation: { failureRate: 0.1, recoveryRate: 0.2 } });
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    const issues = (caught as { issues: string[] }).issues.join('\n');
    for (const key of ['health.slowCallMs', 'health.quotaLowShare', 'health.degradation.recoveryRate']) expect(issues).toContain(key);
    expect(() => createHealthMonitor({} as FormSecurity)).toThrow(/createFormSecurity/);
  });
});

describe('engine.health()', () => {
  it('answers a snapshot from the engine itself, counting from the first call, and closes with the engine', async () => {
    const { createFormSecurity, startedHealthMonitor: started } = await import('../../src/index.js');
    const engine = createFormSecurity({
      providers: [{ name: 'local-check', local: true, async check() { return { score: 0 }; } }],
    });
    const first = await engine.health();
    expect(first.status).toBe('ok');
    await engine.evaluate({ ip: '203.0.113.7' });
    const second = await engine.health();
    const provider = second.providers.find((p) => p.name === 'local-check');
    expect(provider?.calls['1m'].calls).toBe(1);
    await engine.close();
    expect(started(engine)).toBeUndefined();
  });
});
