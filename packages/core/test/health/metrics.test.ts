import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthMonitor, createPrometheusMetrics } from '../../src/health/index.js';
import { consecutiveFailures, createFormSecurity } from '../../src/index.js';
import type { FormSecurity } from '../../src/index.js';
import { freshSubject, manualClock, scriptedProvider } from './support.js';

const engines: FormSecurity[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

/** Each sample line of a text exposition as `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

async function scenario() {
  const clock = manualClock();
  const remote = scriptedProvider('remote', clock);
  const engine = createFormSecurity({
    providers: [
      { provider: remote.provider, breaker: { strategy: consecutiveFailures({ threshold: 2 }) }, quota: { daily: { limit: 100 }, costPerCall: 0.01 } },
      { provider: { name: 'honeypot', local: true, facets: ['fields'], check: async () => ({ score: 0 }) } },
    ],
    cache: { secret: 'metrics-test-secret-0123456789abcdef' },
    clock: clock.now,
    now: clock.now,
  });
  engines.push(engine);
  createHealthMonitor(engine, { now: clock.now, refreshIntervalMs: false });
  const registry = new Registry();
  const metrics = await createPrometheusMetrics(engine, { registry });
  remote.state.latencyMs = 20;
  const repeated = freshSubject();
  await engine.evaluate(repeated);
  await engine.evaluate(repeated);
  await engine.evaluate(freshSubject());
  remote.state.behaviour = 'fail';
  await engine.evaluate(freshSubject());
  await engine.evaluate(freshSubject()); // the second failure opens the breaker
  await engine.evaluate(freshSubject());
  return { registry, metrics };
}

describe('Prometheus metrics', () => {
  it('exposes calls by provider and status, latency, breaker, quota and cache series', async () => {
    const { metrics, registry } = await scenario();
    const samples = parseExposition(await metrics.metrics());

    expect(samples.get('formsecurity_provider_calls_total{provider="remote",status="fresh"}')).toBe(2);
    expect(samples.get('formsecurity_provider_calls_total{provider="remote",status="cached"}')).toBe(1);
    expect(samples.get('formsecurity_provider_calls_total{provider="remote",status="error"}')).toBe(2);
    expect(samples.get('formsecurity_provider_calls_total{provider="remote",status="circuit-open"}')).toBe(1);
    expect(samples.get('formsecurity_provider_calls_total{provider="honeypot",status="skipped"}')).toBe(6);

    // 20 ms answers fall in the 25 ms bucket, not the 10 ms one.
    expect(samples.get('formsecurity_provider_latency_seconds_bucket{le="0.01",provider="remote",status="fresh"}')).toBe(0);
    expect(samples.get('formsecurity_provider_latency_seconds_bucket{le="0.025",provider="remote",status="fresh"}')).toBe(2);
    expect(samples.get('formsecurity_provider_latency_seconds_count{provider="remote",status="error"}')).toBe(2);
    expect(samples.get('formsecurity_provider_latency_seconds_sum{provider="remote",status="fresh"}')).toBeCloseTo(0.04, 10);

    expect(samples.get('formsecurity_breaker_state{provider="remote"}')).toBe(2);
    expect(samples.get('formsecurity_provider_status{provider="remote"}')).toBe(2);
    expect(samples.get('formsecurity_provider_status{provider="honeypot"}')).toBe(0);
    expect(samples.get('formsecurity_health_status')).toBe(2);
    expect(samples.get('formsecurity_quota_remaining{provider="remote",window="daily_calls"}')).toBe(96);
    expect(samples.get('formsecurity_quota_limit{provider="remote",window="daily_calls"}')).toBe(100);
    expect(samples.get('formsecurity_quota_spend{provider="remote",period="daily"}')).toBeCloseTo(0.04, 10);
    expect(samples.get('formsecurity_cache_hits_total{tier="l1"}')).toBe(1);
    expect(samples.get('formsecurity_cache_misses_total{tier="l1"}')).toBe(5);
    expect(samples.get('formsecurity_cache_l2_up')).toBe(1);
    expect(samples.get('formsecurity_alerts_total{type="breaker.open"}')).toBe(1);
    expect(samples.get('formsecurity_verdicts_total{decision="allow",degraded="true"}')).toBe(3);
    expect(samples.get('formsecurity_verdicts_total{decision="allow",degraded="false"}')).toBe(3);

    // The same series through prom-client's own reader, with their types.
    const json = await registry.getMetricsAsJSON();
    const types = Object.fromEntries(json.map((m) => [m.name, m.type]));
    expect(types).toMatchObject({
      formsecurity_provider_calls_total: 'counter',
      formsecurity_provider_latency_seconds: 'histogram',
      formsecurity_breaker_state: 'gauge',
      formsecurity_quota_remaining: 'gauge',
      formsecurity_cache_hits_total: 'counter',
    });
    expect(metrics.contentType).toContain('text/plain');
  });

  it('advances cache counters by the difference at each scrape', async () => {
    const { metrics } = await scenario();
    const first = parseExposition(await metrics.metrics());
    const second = parseExposition(await metrics.metrics());
    expect(second.get('formsecurity_cache_misses_total{tier="l1"}')).toBe(first.get('formsecurity_cache_misses_total{tier="l1"}'));
  });

  it('stops counting and leaves the registry after close', async () => {
    const { metrics, registry } = await scenario();
    metrics.close();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });
});
