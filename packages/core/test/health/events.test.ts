import { describe, expect, it } from 'vitest';
import { AlertStream, describeEvent, HEALTH_EVENT_TYPES } from '../../src/health/events.js';
import type { AlertEvent, HealthEvent } from '../../src/health/events.js';

const lowDaily: AlertEvent = { type: 'quota.low', provider: 'ipapi', window: 'daily calls', remaining: 5, limit: 100, resetAtMs: 0 };
const lowMonthly: AlertEvent = { ...lowDaily, window: 'monthly calls', remaining: 50, limit: 1_000 };

function stream(cooldownMs = 1_000, keep = 10) {
  const alerts = new AlertStream({ cooldownMs, keep });
  const seen: HealthEvent[] = [];
  alerts.on('*', (event) => seen.push(event));
  return { alerts, seen };
}

describe('alert stream', () => {
  it('keys the cool-down by kind and subject: another provider or quota window is not held back', () => {
    const { alerts, seen } = stream();
    alerts.publish(lowDaily, 0);
    alerts.publish(lowMonthly, 1);
    alerts.publish({ ...lowDaily, provider: 'abuseipdb' }, 2);
    alerts.publish(lowDaily, 3);
    expect(seen.map((e) => `${'provider' in e ? e.provider : ''} ${'window' in e ? e.window : ''}`)).toEqual([
      'ipapi daily calls',
      'ipapi monthly calls',
      'abuseipdb daily calls',
    ]);
  });

  it('after the cool-down, sends the last held-back alert unless its family moved on', () => {
    const { alerts, seen } = stream();
    alerts.publish({ type: 'cache.l2.down', reason: 'ECONNREFUSED' }, 0);
    alerts.publish({ type: 'cache.l2.up' }, 10);
    alerts.publish({ type: 'cache.l2.down', reason: 'ETIMEDOUT' }, 20); // held
    alerts.publish({ type: 'cache.l2.up' }, 30); // held
    alerts.flush(999);
    expect(seen.map((e) => e.type)).toEqual(['cache.l2.down', 'cache.l2.up']);
    alerts.flush(1_000); // the down's cool-down ended, but L2 is up again since: nothing to say
    expect(seen).toHaveLength(2);
    alerts.flush(1_010);
    expect(seen.map((e) => [e.type, e.at, e.repeated])).toEqual([
      ['cache.l2.down', 0, 0],
      ['cache.l2.up', 10, 0],
      ['cache.l2.up', 30, 0],
    ]);
  });

  it('counts alerts held back into the next one sent after the cool-down', () => {
    const { alerts, seen } = stream();
    for (let at = 0; at < 1_000; at += 100) alerts.publish(lowDaily, at);
    alerts.publish(lowDaily, 1_000);
    expect(seen.map((e) => [e.at, e.repeated])).toEqual([[0, 0], [1_000, 9]]);
  });

  it('keeps the latest alerts, newest first, and survives a throwing subscriber', () => {
    const { alerts, seen } = stream(1, 2);
    alerts.on('quota.low', () => {
      throw new Error('subscriber bug');
    });
    alerts.publish(lowDaily, 0);
    alerts.publish(lowMonthly, 1);
    alerts.publish({ type: 'cache.l2.up' }, 2);
    expect(seen).toHaveLength(3);
    expect(alerts.recent().map((e) => e.type)).toEqual(['cache.l2.up', 'quota.low']);
  });

  it('describes every alert type in one line', () => {
    const samples: AlertEvent[] = [
      { type: 'breaker.open', provider: 'p', reason: 'threshold', origin: 'local', untilMs: 0 },
      { type: 'breaker.half-open', provider: 'p' },
      { type: 'breaker.close', provider: 'p', reason: 'probes-succeeded', origin: 'local' },
      lowDaily,
      { type: 'quota.exhausted', provider: 'p', window: 'daily calls', resetAtMs: 0, reserveOnly: true },
      { type: 'provider.degraded', provider: 'p', failureRate: 0.4, calls: 10 },
      { type: 'provider.recovered', provider: 'p', failureRate: 0, calls: 5 },
      { type: 'cache.l2.down', reason: 'ECONNREFUSED' },
      { type: 'cache.l2.up' },
    ];
    expect(samples.map((e) => e.type)).toEqual(HEALTH_EVENT_TYPES);
    const lines = samples.map((e) => describeEvent({ ...e, at: 0, repeated: 2 }));
    expect(new Set(lines).size).toBe(samples.length);
    for (const line of lines) expect(line).toMatch(/\(2 more during the cool-down\)$/);
    expect(lines[5]).toBe('p: degraded, 40 % of 10 calls failed (2 more during the cool-down)');
  });
});
