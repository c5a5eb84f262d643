import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthMonitor, webhookSink } from '../../src/health/index.js';
import type { HealthEvent } from '../../src/health/index.js';
import { consecutiveFailures, createFormSecurity, isConfigurationError } from '../../src/index.js';
import type { FormSecurity } from '../../src/index.js';
import { freshSubject, manualClock, recordingLogger, scriptedProvider } from './support.js';

type Answer = 'ok' | 'error' | 'hang';

/** A loopback receiver that records each delivery and answers as the test says. */
async function receiver() {
  const received: { headers: http.IncomingHttpHeaders; body: unknown }[] = [];
  const state = { answer: 'ok' as Answer };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      if (state.answer === 'hang') return;
      res.writeHead(state.answer === 'ok' ? 204 : 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/T0/SECRETPATH`, received, state };
}

const servers: http.Server[] = [];
const engines: FormSecurity[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

const event = (provider: string): HealthEvent => ({ type: 'breaker.half-open', provider, at: Date.UTC(2025, 0, 1), repeated: 0 });

describe('webhook sink', () => {
  it('POSTs each alert as JSON with a readable line, and the configured headers', async () => {
    const hook = await receiver();
    const sink = webhookSink({ url: hook.url, headers: { authorization: 'Bearer hook-secret' } });
    sink(event('ipapi'));
    await sink.idle();
    expect(sink.delivered).toBe(1);
    expect(hook.received[0]?.headers['content-type']).toBe('application/json');
    expect(hook.received[0]?.headers['authorization']).toBe('Bearer hook-secret');
    expect(hook.received[0]?.body).toEqual({ text: 'FormSecurity: ipapi: breaker half-open, probing', event: event('ipapi') });
  });

  it('logs a refusal or a timeout without throwing, and never logs the URL path or headers', async () => {
    const hook = await receiver();
    const { logger, lines } = recordingLogger();
    const sink = webhookSink({ url: hook.url, timeoutMs: 100, logger, headers: { authorization: 'Bearer hook-secret' } });
    hook.state.answer = 'error';
    expect(() => sink(event('a'))).not.toThrow();
    await sink.idle();
    hook.state.answer = 'hang';
    sink(event('b'));
    await sink.idle();
    expect(sink.failed).toBe(2);
    expect(lines.map((l) => [l.level, l.message, l.meta?.['status'] ?? l.meta?.['error']])).toEqual([
      ['warn', 'health webhook refused an alert', 500],
      ['warn', 'health webhook delivery failed', 'TimeoutError'],
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('SECRETPATH');
    expect(logged).not.toContain('hook-secret');
  });

  it('logs an unreachable receiver and drops alerts beyond its in-flight bound', async () => {
    const hook = await receiver();
    hook.state.answer = 'hang';
    const { logger, lines } = recordingLogger();
    const sink = webhookSink({ url: hook.url, timeoutMs: 200, maxInFlight: 2, logger });
    for (const name of ['a', 'b', 'c', 'd']) sink(event(name));
    expect(sink.dropped).toBe(2);
    await sink.idle();
    expect(sink.failed).toBe(2);

    const closed = webhookSink({ url: 'http://127.0.0.1:1/unreachable', logger });
    closed(event('e'));
    await closed.idle();
    expect(closed.failed).toBe(1);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3);
  });

  it('refuses a URL that is not http(s), without repeating it', () => {
    let caught: unknown;
    try {
      webhookSink({ url: 'ftp://user:pw@example.org/x' });
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    expect(String((caught as Error).message)).not.toContain('pw@');
  });

  it('receives the monitor’s alerts when configured as its webhook', async () => {
    const hook = await receiver();
    const clock = manualClock();
    const remote = scriptedProvider('remote', clock);
    const engine = createFormSecurity({
      providers: [{ provider: remote.provider, breaker: { strategy: consecutiveFailures({ threshold: 2 }) }, quota: false }],
      cache: { secret: 'webhook-test-secret-0123456789abcdef' },
      clock: clock.now,
    });
    engines.push(engine);
    createHealthMonitor(engine, { now: clock.now, refreshIntervalMs: false, webhook: { url: hook.url } });
    remote.state.behaviour = 'fail';
    await engine.evaluate(freshSubject());
    await engine.evaluate(freshSubject());
    for (let i = 0; i < 100 && hook.received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]?.body).toMatchObject({ text: 'FormSecurity: remote: breaker open (threshold)', event: { type: 'breaker.open', provider: 'remote' } });
  });
});
