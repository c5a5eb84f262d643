/**
 * The server side of the middleware bench, run in its own process so the load
 * generator does not share its event loop:
 *
 *   node --import tsx bench/apps/form-server.ts <express|koa|nest> bare
 *   node --import tsx bench/apps/form-server.ts <express|koa|nest> guarded <sfs url> <abuseipdb url> <abuseipdb key>
 *
 * Both variants parse the form and answer the same small JSON; `guarded` puts
 * FormSecurity in front of the route with three providers (StopForumSpam and AbuseIPDB
 * on the bench's loopback fakes, a local CIDR blocklist) and warms the cache before
 * announcing `READY {"port":…}`. The fakes live in the bench's process, not here: a real
 * provider's work does not run in the app either. `GET /_bench/stats` tells the bench the
 * cache's fetches and hits and the process's CPU time.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { Controller, Get, HttpCode, Module, Post, Req } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import express from 'express';
import Koa from 'koa';
import { createFormSecurity, engineInternals, silentLogger } from '@formsecurity/core';
import type { FormSecurity } from '@formsecurity/core';
import { formSecurity as expressGuard } from '@formsecurity/express';
import { formSecurity as koaGuard } from '@formsecurity/koa';
import { FormSecurityGuard, FormSecurityModule } from '@formsecurity/nest';
import { abuseIpdb, cidrBlocklist, stopForumSpam } from '@formsecurity/providers';
import { announceReady, onTermination } from '../lib/child.js';
import { BENCH_FORM, BENCH_HEADERS } from './bench-form.js';
import type { ServerReady, ServerStats } from './bench-form.js';

type Framework = 'express' | 'koa' | 'nest';

/** The bench claims its client address through X-Forwarded-For, as a proxy in front would. */
const TRUST_PROXY = 1;

interface Guarded {
  readonly engine: FormSecurity;
  stats(): Omit<ServerStats, 'cpuMicros'>;
  close(): Promise<void>;
}

/** Where the bench's loopback fakes listen (they run in the bench's process, idle once the cache is warm). */
interface Upstreams {
  readonly stopForumSpam: string;
  readonly abuseIpdb: string;
  readonly abuseIpdbKey: string;
}

async function guardedEngine(upstreams: Upstreams): Promise<Guarded> {
  const engine = createFormSecurity({
    providers: [
      stopForumSpam({ baseUrl: upstreams.stopForumSpam }),
      abuseIpdb({ key: upstreams.abuseIpdbKey, baseUrl: upstreams.abuseIpdb }),
      cidrBlocklist({ name: 'blocklist', ranges: ['198.51.100.0/24'] }),
    ],
    cache: { secret: 'bench-cache-secret-0123456789abcdef' },
    logger: silentLogger,
  });
  return {
    engine,
    stats() {
      const cache = engineInternals(engine)?.cache?.stats();
      return { cacheFetches: cache?.fetches ?? 0, l1Hits: cache?.l1.hits ?? 0 };
    },
    close: () => engine.close(),
  };
}

const NO_CACHE_STATS = { cacheFetches: 0, l1Hits: 0 };

/** What `GET /_bench/stats` answers: the cache's counters and the process's CPU time so far. */
function statsOf(guarded: Guarded | undefined): ServerStats {
  const { user, system } = process.cpuUsage();
  return { ...(guarded?.stats() ?? NO_CACHE_STATS), cpuMicros: user + system };
}

interface Running {
  readonly port: number;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.once('listening', () => resolve((server.address() as AddressInfo).port)));
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

async function expressServer(guarded: Guarded | undefined): Promise<Running> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  const reply = (req: express.Request, res: express.Response): void => {
    res.json({ decision: req.formSecurity?.decision ?? 'none' });
  };
  if (guarded === undefined) app.post('/contact', reply);
  else app.post('/contact', expressGuard({ engine: guarded.engine, subject: { trustProxy: TRUST_PROXY } }), reply);
  app.get('/_bench/stats', (_req, res) => {
    res.json(statsOf(guarded));
  });
  const server = app.listen(0, '127.0.0.1');
  return { port: await listen(server), close: () => closeServer(server) };
}

async function koaServer(guarded: Guarded | undefined): Promise<Running> {
  const app = new Koa();
  const router = new Router();
  const reply = (ctx: Koa.Context): void => {
    ctx.body = { decision: ctx.state.formSecurity?.decision ?? 'none' };
  };
  if (guarded === undefined) router.post('/contact', reply);
  else router.post('/contact', koaGuard({ engine: guarded.engine, subject: { trustProxy: TRUST_PROXY } }), reply);
  router.get('/_bench/stats', (ctx) => {
    ctx.body = statsOf(guarded);
  });
  app.use(bodyParser());
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  return { port: await listen(server), close: () => closeServer(server) };
}

async function nestServer(guarded: Guarded | undefined): Promise<Running> {
  @Controller()
  class ContactController {
    @Post('contact')
    @HttpCode(200)
    contact(@Req() req: express.Request): { decision: string } {
      return { decision: req.formSecurity?.decision ?? 'none' };
    }

    @Get('_bench/stats')
    stats(): ServerStats {
      return statsOf(guarded);
    }
  }
  const imports: DynamicModule[] =
    guarded === undefined ? [] : [FormSecurityModule.forRoot({ engine: guarded.engine, subject: { trustProxy: TRUST_PROXY } })];
  @Module({
    imports,
    controllers: [ContactController],
    providers: guarded === undefined ? [] : [{ provide: APP_GUARD, useClass: FormSecurityGuard }],
  })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { port, close: () => app.close() };
}

const SERVERS: Record<Framework, (guarded: Guarded | undefined) => Promise<Running>> = {
  express: expressServer,
  koa: koaServer,
  nest: nestServer,
};

/** Posts the bench form twice: the first fills the cache, the second must be served from it. */
async function warm(port: number): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/contact`, {
      method: 'POST',
      headers: BENCH_HEADERS,
      body: BENCH_FORM,
    });
    if (response.status !== 200) throw new Error(`warm-up answered ${response.status}`);
    await response.arrayBuffer();
  }
}

async function main(): Promise<void> {
  const [framework, variant, stopForumSpamUrl, abuseIpdbUrl, abuseIpdbKey] = process.argv.slice(2) as (string | undefined)[];
  const guarding = variant === 'guarded' && stopForumSpamUrl !== undefined && abuseIpdbUrl !== undefined && abuseIpdbKey !== undefined;
  if (framework === undefined || !(framework in SERVERS) || (variant !== 'bare' && !guarding)) {
    throw new Error('usage: form-server.ts <express|koa|nest> bare | guarded <stopforumspam url> <abuseipdb url> <abuseipdb key>');
  }
  const guarded = guarding ? await guardedEngine({ stopForumSpam: stopForumSpamUrl, abuseIpdb: abuseIpdbUrl, abuseIpdbKey }) : undefined;
  const server = await SERVERS[framework as Framework](guarded);
  await warm(server.port);
  const stats = statsOf(guarded);
  // Two providers are remote: the warm-up must have called each exactly once.
  if (guarded !== undefined && stats.cacheFetches !== 2) throw new Error(`warm-up made ${stats.cacheFetches} upstream calls, expected 2`);
  onTermination(async () => {
    await server.close();
    await guarded?.close();
  });
  const ready: ServerReady = { port: server.port, stats };
  announceReady(ready);
}

await main();
