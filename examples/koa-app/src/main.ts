/** `npm run start:koa`: the Koa demo on http://localhost:3000 (PORT to change it). */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { formSecurity } from '@formsecurity/koa';
import { formPage, verdictPage } from '../../shared/page.js';
import { setUpDemo, stopOnSignals } from '../../shared/setup.js';
import { FAULT_PATH, HEALTH_PATH, STATUS_PATH } from '../../shared/status.js';

const demo = await setUpDemo();
const app = new Koa();
const router = new Router();
// The demo trusts X-Forwarded-For from loopback so that curl can pretend to come from elsewhere.
const guard = formSecurity({ engine: demo.engine, subject: { trustProxy: ['loopback'] } });

router.get('/', (ctx) => {
  ctx.type = 'html';
  ctx.body = formPage(demo.hints);
});
router.get(STATUS_PATH, guard.statusPage(demo.status.options));
router.get(HEALTH_PATH, guard.healthCheck(demo.status.options));
router.post(FAULT_PATH, (ctx) => {
  const answer = demo.status.fault({ url: ctx.originalUrl, headers: ctx.headers });
  ctx.status = answer.status;
  if (answer.location !== undefined) ctx.redirect(answer.location);
  else ctx.body = answer.body;
});
router.post('/contact', guard, (ctx) => {
  const verdict = ctx.state.formSecurity;
  if (verdict === undefined) ctx.throw(500, 'FormSecurity did not run');
  else if (ctx.accepts(['html', 'json']) === 'json') ctx.body = verdict;
  else {
    ctx.type = 'html';
    ctx.body = verdictPage(verdict);
  }
});
app.use(bodyParser());
app.use(router.routes());

const server = app.listen(demo.port, () => demo.announce('Koa'));
stopOnSignals(async () => {
  server.close();
  await demo.close();
});
