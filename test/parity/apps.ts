/**
 * The same small site in Express, Koa and NestJS, for the parity suite: identical routes,
 * one shared engine per site, so any difference in answers is the adapters' doing.
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
import type { Decision, FormSecurity as Engine, TrustProxy } from '@formsecurity/core';
import { formSecurity as expressGuard } from '@formsecurity/express';
import { formSecurity as koaGuard } from '@formsecurity/koa';
import {
  FormSecurity,
  FormSecurityGuard,
  FormSecurityModule,
  SkipFormSecurity,
  Verdict,
} from '@formsecurity/nest';

export type Framework = 'express' | 'koa' | 'nest';

export interface Site {
  readonly url: string;
  close(): Promise<void>;
}

export interface SiteOptions {
  readonly engine: Engine;
  readonly trustProxy: TrustProxy;
}

const MODES: readonly Decision[] = ['allow', 'review', 'challenge', 'block'];
const required = (mode: Decision) => ({ require: ['stopforumspam'], onUnavailable: mode, enforce: true });

function listening(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function expressSite({ engine, trustProxy }: SiteOptions): Promise<Site> {
  const app = express();
  app.use(express.urlencoded({ extended: false }), express.json());
  const guard = expressGuard({ engine, subject: { trustProxy } });
  const reply = (req: express.Request, res: express.Response) => {
    res.json({ verdict: req.formSecurity ?? null });
  };
  app.post('/annotate', guard, reply);
  app.post('/enforce', guard.route({ enforce: true }), reply);
  for (const mode of MODES) app.post(`/required/${mode}`, guard.route(required(mode)), reply);
  app.post('/skip', reply);
  const server = app.listen(0, '127.0.0.1');
  const url = await listening(server);
  return { url, close: () => closeServer(server) };
}

async function koaSite({ engine, trustProxy }: SiteOptions): Promise<Site> {
  const app = new Koa();
  const router = new Router();
  const guard = koaGuard({ engine, subject: { trustProxy } });
  const reply = (ctx: Koa.Context) => {
    ctx.body = { verdict: ctx.state.formSecurity ?? null };
  };
  router.post('/annotate', guard, reply);
  router.post('/enforce', guard.route({ enforce: true }), reply);
  for (const mode of MODES) router.post(`/required/${mode}`, guard.route(required(mode)), reply);
  router.post('/skip', reply);
  app.use(bodyParser());
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  const url = await listening(server);
  return { url, close: () => closeServer(server) };
}

@Controller()
class ParityController {
  @Post('annotate')
  @HttpCode(200)
  annotate(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('enforce')
  @HttpCode(200)
  @FormSecurity({ enforce: true })
  enforce(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('required/allow')
  @HttpCode(200)
  @FormSecurity(required('allow'))
  requiredAllow(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('required/review')
  @HttpCode(200)
  @FormSecurity(required('review'))
  requiredReview(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('required/challenge')
  @HttpCode(200)
  @FormSecurity(required('challenge'))
  requiredChallenge(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('required/block')
  @HttpCode(200)
  @FormSecurity(required('block'))
  requiredBlock(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Post('skip')
  @HttpCode(200)
  @SkipFormSecurity()
  skip(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }
}

async function nestSite(options: SiteOptions): Promise<Site> {
  @Module({
    imports: [FormSecurityModule.forRoot({ engine: options.engine, subject: { trustProxy: options.trustProxy } })],
    controllers: [ParityController],
    providers: [{ provide: APP_GUARD, useClass: FormSecurityGuard }],
  })
  class ParityModule {}
  const app = await NestFactory.create(ParityModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { url, close: () => app.close() };
}

export const startSite: Record<Framework, (options: SiteOptions) => Promise<Site>> = {
  express: expressSite,
  koa: koaSite,
  nest: nestSite,
};
