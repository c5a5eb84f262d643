import express from 'express';
import type { Express } from 'express';
import { formSecurity } from '@formsecurity/express';
import { formPage, verdictPage } from '../../shared/page.js';
import type { DemoSetup } from '../../shared/setup.js';
import { FAULT_PATH, HEALTH_PATH, STATUS_PATH } from '../../shared/status.js';

/**
 * The demo site in Express: a contact form whose submissions get a verdict, shown as a
 * page or, for `Accept: application/json`, as JSON; the status page and health
 * endpoint; and the demo-only route that breaks the StopForumSpam fake.
 */
export function createExpressDemo(demo: Pick<DemoSetup, 'engine' | 'hints' | 'status'>): Express {
  const app = express();
  app.disable('x-powered-by');
  // Before the guard: breaking the fake is no submission to evaluate.
  app.post(FAULT_PATH, (req, res) => {
    const answer = demo.status.fault({ url: req.originalUrl, headers: req.headers });
    if (answer.location !== undefined) res.redirect(303, answer.location);
    else res.status(answer.status).type('text').send(answer.body);
  });
  app.use(express.urlencoded({ extended: false, limit: '32kb' }));
  app.use(express.json({ limit: '32kb' }));
  // The demo trusts X-Forwarded-For from loopback so that curl can pretend to come from elsewhere.
  const guard = formSecurity({ engine: demo.engine, subject: { trustProxy: ['loopback'] } });
  app.use(guard);
  app.get(STATUS_PATH, guard.statusPage(demo.status.options));
  app.get(HEALTH_PATH, guard.healthCheck(demo.status.options));

  app.get('/', (_req, res) => {
    res.type('html').send(formPage(demo.hints));
  });
  app.post('/contact', (req, res) => {
    const verdict = req.formSecurity;
    if (verdict === undefined) res.status(500).send('FormSecurity did not run');
    else if (req.accepts(['html', 'json']) === 'json') res.json(verdict);
    else res.type('html').send(verdictPage(verdict));
  });
  return app;
}
