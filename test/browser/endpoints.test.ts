/**
 * The health endpoint and status page the browser test loads, mounted through each
 * adapter (Express 5 and 4, Koa, NestJS) and asked over real HTTP on 127.0.0.1: off
 * until mounted, 401 without the right token, 503 once every remote provider is down.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import Koa from 'koa';
import Router from '@koa/router';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { consecutiveFailures, createFormSecurity } from '@formsecurity/core';
import type { FormSecurity, HealthSnapshot, Provider } from '@formsecurity/core';
import { formSecurity as expressGuard } from '@formsecurity/express';
import { formSecurity as koaGuard } from '@formsecurity/koa';
import { FormSecurityModule, mountFormSecurityStatus } from '@formsecurity/nest';

const TOKEN = 'endpoint-token-0123456789abcdef';
const HEALTH = '/formsecurity/health';
const STATUS = '/formsecurity/status';

interface Site {
  readonly url: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

const closing = (server: Server) => () => new Promise<void>((resolve) => server.close(() => resolve()));

type ExpressFactory = typeof express5;

function expressSite(express: ExpressFactory) {
  return async (engine: FormSecurity): Promise<Site> => {
    const app = express();
    const guard = expressGuard({ engine });
    app.use(guard);
    app.get(HEALTH, guard.healthCheck({ token: TOKEN }));
    app.get(STATUS, guard.statusPage({ token: TOKEN }));
    const server = app.listen(0, '127.0.0.1');
    return { url: await listen(server), close: closing(server) };
  };
}

async function koaSite(engine: FormSecurity): Promise<Site> {
  const app = new Koa();
  const router = new Router();
  const guard = koaGuard({ engine });
  router.get(HEALTH, guard.healthCheck({ token: TOKEN }));
  router.get(STATUS, guard.statusPage({ token: TOKEN }));
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  return { url: await listen(server), close: closing(server) };
}

async function nestSite(engine: FormSecurity): Promise<Site> {
  @Module({ imports: [FormSecurityModule.forRoot({ engine })] })
  class StatusModule {}
  const app = await NestFactory.create(StatusModule, { logger: false });
  mountFormSecurityStatus(app, { token: TOKEN });
  await app.listen(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, close: () => app.close() };
}

const sites: Record<string, (engine: FormSecurity) => Promise<Site>> = {
  'Express 5': expressSite(express5),
  'Express 4': expressSite(express4 as unknown as ExpressFactory),
  Koa: koaSite,
  NestJS: nestSite,
};

/** A remote provider that the test can make fail; its breaker opens after two failures. */
function engineWithSwitch() {
  const state = { failing: false };
  const provider: Provider = {
    name: 'remote',
    facets: ['email'],
    async check() {
      if (state.failing) throw new Error('upstream down');
      return { score: 0 };
    },
  };
  const engine = createFormSecurity({
    providers: [{ provider, breaker: { strategy: consecutiveFailures({ threshold: 2 }) } }],
    cache: { secret: 'browser-endpoints-secret-0123456789' },
  });
  return { engine, state };
}

const open: (Site | FormSecurity)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

it('mounts nothing by itself: without healthCheck() and statusPage() the paths are not found', async () => {
  const { engine } = engineWithSwitch();
  const app = express5();
  app.use(expressGuard({ engine }));
  const server = app.listen(0, '127.0.0.1');
  const url = await listen(server);
  open.push({ url, close: closing(server) }, engine);
  for (const path of [HEALTH, STATUS]) expect((await fetch(`${url}${path}?token=${TOKEN}`)).status).toBe(404);
});

describe.each(Object.keys(sites))('status endpoints through %s', (framework) => {
  it('refuse a missing or wrong token, answer the right one, and say 503 once the engine is down', async () => {
    const { engine, state } = engineWithSwitch();
    const site = await sites[framework]!(engine);
    open.push(site, engine);

    for (const path of [HEALTH, STATUS]) {
      const refused = [
        await fetch(`${site.url}${path}`),
        await fetch(`${site.url}${path}?token=wrong-token-0123456789abcdef`),
        await fetch(`${site.url}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } }),
      ];
      for (const answer of refused) {
        expect(answer.status, path).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="formsecurity"');
        expect(await answer.text()).toBe('{"error":"unauthorized"}');
      }
    }

    const health = await fetch(`${site.url}${HEALTH}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await health.json()) as HealthSnapshot).status).toBe('ok');

    const page = await fetch(`${site.url}${STATUS}?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<tr data-provider="remote" data-status="ok" data-breaker="closed">');

    state.failing = true;
    await engine.evaluate({ email: 'a@example.org' });
    await engine.evaluate({ email: 'b@example.org' });
    const down = await fetch(`${site.url}${HEALTH}?token=${TOKEN}`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as HealthSnapshot).providers[0]?.breaker?.state).toBe('open');
  });
});
