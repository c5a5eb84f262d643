/**
 * One small site per framework for the security suites, over real HTTP on 127.0.0.1:
 * `POST /submit` annotates (answers `{ verdict }`), `POST /enforce` enforces. Body
 * parsers keep their default size limits; framework errors keep their default
 * handling, so a failure inside the middleware would surface as a 5xx.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { FormSecurity as Engine, SubjectOptions } from '@formsecurity/core';
import { formSecurity as expressGuard } from '@formsecurity/express';
import { formSecurity as koaGuard } from '@formsecurity/koa';
import { FormSecurity, FormSecurityGuard, FormSecurityModule, Verdict } from '@formsecurity/nest';

export type Framework = 'express' | 'koa' | 'nest';
export const FRAMEWORKS: readonly Framework[] = ['express', 'koa', 'nest'];

export interface Site {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface SiteOptions {
  readonly engine: Engine;
  readonly subject: SubjectOptions;
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.once('listening', () => resolve((server.address() as AddressInfo).port)));
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

async function expressSite({ engine, subject }: SiteOptions): Promise<Site> {
  const app = express();
  app.use(express.json(), express.urlencoded({ extended: false }), express.text());
  const guard = expressGuard({ engine, subject });
  const reply = (req: express.Request, res: express.Response) => {
    res.json({ verdict: req.formSecurity ?? null });
  };
  app.post('/submit', guard, reply);
  app.post('/enforce', guard.route({ enforce: true }), reply);
  const server = app.listen(0, '127.0.0.1');
  const port = await listening(server);
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server) };
}

async function koaSite({ engine, subject }: SiteOptions): Promise<Site> {
  const app = new Koa();
  const router = new Router();
  const guard = koaGuard({ engine, subject });
  const reply = (ctx: Koa.Context) => {
    ctx.body = { verdict: ctx.state.formSecurity ?? null };
  };
  router.post('/submit', guard, reply);
  router.post('/enforce', guard.route({ enforce: true }), reply);
  // Body-parser refusals (400, 413) are answers, not incidents: keep them off stderr.
  app.silent = true;
  app.use(bodyParser({ enableTypes: ['json', 'form', 'text'] }));
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  const port = await listening(server);
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server) };
}

@Controller()
class SecurityController {
  @Post('submit')
  @HttpCode(200)
  submit(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('enforce')
  @HttpCode(200)
  @FormSecurity({ enforce: true })
  enforce(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }
}

async function nestSite({ engine, subject }: SiteOptions): Promise<Site> {
  @Module({
    imports: [FormSecurityModule.forRoot({ engine, subject })],
    controllers: [SecurityController],
    providers: [{ provide: APP_GUARD, useClass: FormSecurityGuard }],
  })
  class SecurityModule {}
  const app = await NestFactory.create(SecurityModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, close: () => app.close() };
}

export const startSite: Record<Framework, (options: SiteOptions) => Promise<Site>> = {
  express: expressSite,
  koa: koaSite,
  nest: nestSite,
};
