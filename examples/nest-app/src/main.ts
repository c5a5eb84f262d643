/** `npm run start:nest`: the NestJS demo on http://localhost:3000 (PORT to change it). */
import 'reflect-metadata';
import { Controller, Get, Header, HttpCode, Module, Post, Req, Res } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import { FormSecurityGuard, FormSecurityModule, SkipFormSecurity, Verdict, mountFormSecurityStatus } from '@formsecurity/nest';
import { formPage, verdictPage } from '../../shared/page.js';
import { setUpDemo, stopOnSignals } from '../../shared/setup.js';
import { FAULT_PATH, HEALTH_PATH, STATUS_PATH } from '../../shared/status.js';

const demo = await setUpDemo();

@Controller()
class ContactController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  form(): string {
    return formPage(demo.hints);
  }

  @Post('contact')
  @HttpCode(200)
  contact(@Verdict() verdict: Verdict | undefined, @Req() req: Request, @Res() res: Response): void {
    if (verdict === undefined) res.status(500).send('FormSecurity did not run');
    else if (req.accepts(['html', 'json']) === 'json') res.json(verdict);
    else res.type('html').send(verdictPage(verdict));
  }

  // Breaking the fake is no submission to evaluate.
  @Post(FAULT_PATH.slice(1))
  @SkipFormSecurity()
  fault(@Req() req: Request, @Res() res: Response): void {
    const answer = demo.status.fault({ url: req.originalUrl, headers: req.headers });
    if (answer.location !== undefined) res.redirect(303, answer.location);
    else res.status(answer.status).type('text').send(answer.body);
  }
}

@Module({
  // The demo trusts X-Forwarded-For from loopback so that curl can pretend to come from elsewhere.
  imports: [FormSecurityModule.forRoot({ engine: demo.engine, subject: { trustProxy: ['loopback'] } })],
  controllers: [ContactController],
  providers: [{ provide: APP_GUARD, useClass: FormSecurityGuard }],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
mountFormSecurityStatus(app, { ...demo.status.options, statusPath: STATUS_PATH, healthPath: HEALTH_PATH });
await app.listen(demo.port);
demo.announce('NestJS');
stopOnSignals(async () => {
  await app.close();
  await demo.close();
});
