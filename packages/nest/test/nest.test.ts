import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Provider } from '@formsecurity/core';
import { FormSecurity, FormSecurityGuard, FormSecurityModule, SkipFormSecurity, Verdict } from '../src/index.js';

const asked: string[] = [];
const listedLoopback: Provider = {
  name: 'iplist',
  facets: ['ip'],
  async check(subject) {
    asked.push(subject.ip as string);
    return { score: subject.ip === '127.0.0.1' ? 1 : 0, reasons: ['listed'] };
  },
};

@Controller()
class FormController {
  @Post('annotate')
  annotate(@Verdict() verdict: Verdict, @Body() body: Record<string, string>) {
    return { decision: verdict.decision, email: body['email'] ?? null };
  }

  @Post('strict')
  @FormSecurity({ enforce: true })
  strict() {
    return { handled: true };
  }

  @Post('skipped')
  @SkipFormSecurity()
  skipped(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }

  @Get('page')
  page(@Verdict() verdict: Verdict | undefined) {
    return { verdict: verdict ?? null };
  }
}

@Module({
  imports: [FormSecurityModule.forRootAsync({ useFactory: async () => ({ config: { providers: [listedLoopback] } }) })],
  controllers: [FormController],
  providers: [{ provide: APP_GUARD, useClass: FormSecurityGuard }],
})
class AppModule {}

let app: INestApplication;
let url: string;

beforeAll(async () => {
  app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});

const post = (path: string, body: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });

describe('NestJS guard, module and decorators', () => {
  it('attaches the verdict and injects it with @Verdict()', async () => {
    const res = await post('/annotate', { email: 'a@b.co' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ decision: 'block', email: 'a@b.co' });
  });

  it('@FormSecurity({ enforce: true }) answers 403 through an HttpException', async () => {
    const res = await post('/strict');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'blocked', decision: 'block' });
  });

  it('@SkipFormSecurity() leaves the route unchecked, and GET carries no verdict', async () => {
    const before = asked.length;
    expect(await (await post('/skipped')).json()).toEqual({ verdict: null });
    expect(await (await fetch(`${url}/page`)).json()).toEqual({ verdict: null });
    expect(asked.length).toBe(before);
  });
});
