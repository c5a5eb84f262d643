import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthMonitor, createStatusEndpoints, renderStatusPage, STATUS_PAGE_HEADERS } from '../../src/health/index.js';
import type { HealthSnapshot } from '../../src/health/index.js';
import { consecutiveFailures, createFormSecurity, isConfigurationError, ProviderResponseError } from '../../src/index.js';
import type { FormSecurity, Provider } from '../../src/index.js';
import { freshSubject, manualClock, scriptedProvider } from './support.js';

const TOKEN = 'status-token-0123456789';
const engines: FormSecurity[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

/** Local providers have no cache, so any name goes: a hostile one tests the escaping. */
const HOSTILE = '<img src=x onerror=alert(1)>';
const hostileProvider: Provider = {
  name: HOSTILE,
  local: true,
  async check() {
    throw new ProviderResponseError('malformed', 'answer was <script>alert(2)</script>');
  },
};

function setup(extra: Provider[] = []) {
  const clock = manualClock();
  const remote = scriptedProvider('remote', clock);
  const engine = createFormSecurity({
    providers: [{ provider: remote.provider, breaker: { strategy: consecutiveFailures({ threshold: 2 }) }, quota: false }, ...extra],
    cache: { secret: 'endpoint-test-secret-0123456789abcdef' },
    clock: clock.now,
    now: clock.now,
  });
  engines.push(engine);
  const monitor = createHealthMonitor(engine, { now: clock.now, refreshIntervalMs: false });
  const endpoints = createStatusEndpoints(engine, { token: TOKEN });
  return { engine, remote, monitor, endpoints };
}

const request = (url: string, headers: Record<string, string> = {}) => ({ url, headers });

describe('health endpoint and status page', () => {
  it('refuse a missing or wrong token with 401, on both', async () => {
    const { endpoints } = setup();
    const refused = [
      request('/health'),
      request('/health?token='),
      request(`/health?token=${TOKEN}x`),
      request(`/health?token=${TOKEN.slice(0, -1)}`),
      request('/health', { authorization: 'Bearer wrong-token-0123456789' }),
      request('/health', { authorization: `Basic ${TOKEN}` }),
      request('/health', { authorization: `Bearer ${TOKEN} extra` }),
    ];
    for (const r of refused) {
      for (const endpoint of [endpoints.health, endpoints.page]) {
        const answer = await endpoint(r);
        expect(answer.status, JSON.stringify(r)).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer realm="formsecurity"');
        expect(answer.body).not.toContain('providers');
      }
    }
  });

  it('answer a bearer header or a token query with 200 while ok or degraded, and 503 when down', async () => {
    const { endpoints, engine, remote } = setup();
    const byHeader = await endpoints.health(request('/health', { authorization: `Bearer ${TOKEN}` }));
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers['cache-control']).toBe('no-store');
    expect((JSON.parse(byHeader.body) as HealthSnapshot).status).toBe('ok');
    expect((await endpoints.page(request(`/status?token=${encodeURIComponent(TOKEN)}`))).status).toBe(200);

    remote.state.behaviour = 'fail';
    await engine.evaluate(freshSubject());
    await engine.evaluate(freshSubject());
    const down = await endpoints.health(request(`/health?x=1&token=${TOKEN}`));
    expect(down.status).toBe(503);
    const snapshot = JSON.parse(down.body) as HealthSnapshot;
    expect(snapshot.status).toBe('down');
    expect(snapshot.providers[0]?.breaker?.state).toBe('open');
    // A human still gets the page while the engine is down.
    expect((await endpoints.page(request(`/status?token=${TOKEN}`))).status).toBe(200);
  });

  it('refuse to start without a token of at least 16 characters', () => {
    const { engine } = setup();
    for (const token of ['', 'short', undefined as unknown as string]) {
      let caught: unknown;
      try {
        createStatusEndpoints(engine, { token });
      } catch (error) {
        caught = error;
      }
      expect(isConfigurationError(caught)).toBe(true);
    }
  });

  it('render breaker state, latency, events and actions, escaping everything', async () => {
    const { endpoints, engine, remote } = setup([hostileProvider]);
    remote.state.behaviour = 'fail';
    await engine.evaluate(freshSubject());
    await engine.evaluate(freshSubject());
    const page = await createStatusEndpoints(engine, {
      token: TOKEN,
      title: '<script>alert(1)</script>',
      refreshSeconds: 3,
      actions: [{ label: 'Break "it"', href: '/demo/fault?mode=down&token=<x>' }],
    }).page(request(`/status?token=${TOKEN}`));
    expect(page.headers).toEqual(STATUS_PAGE_HEADERS);
    const html = page.body;
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).toContain('<meta http-equiv="refresh" content="3">');
    expect(html).toContain('<tr data-provider="remote" data-status="down" data-breaker="open">');
    expect(html).toContain('<tr data-provider="&#60;img src=x onerror=alert(1)&#62;" data-status="ok" data-breaker="none">');
    expect(html).toContain('answer was &#60;script&#62;alert(2)&#60;/script&#62;');
    expect(html).toContain('data-event="breaker.open"');
    expect(html).toContain('<form method="post" action="/demo/fault?mode=down&#38;token=&#60;x&#62;"><button type="submit">Break &#34;it&#34;</button></form>');
    expect(await endpoints.page(request(`/status?token=${TOKEN}`))).toMatchObject({ status: 200 });
  });

  it('allow only its own style block under the page’s CSP', async () => {
    const { monitor } = setup();
    const html = renderStatusPage(await monitor.snapshot());
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(STATUS_PAGE_HEADERS['content-security-policy']).toContain(`style-src 'sha256-${hash}'`);
    expect(STATUS_PAGE_HEADERS['content-security-policy']).toContain("default-src 'none'");
    expect(html).not.toContain('<script');
  });
});
