import express from 'express';
import type { Express } from 'express';
import type { FormSecurity } from '@formsecurity/core';
import { formSecurity } from '@formsecurity/express';
import { formPage, verdictPage } from '../../shared/page.js';

/**
 * The demo site in Express: a contact form whose submissions get a verdict, shown as a
 * page or, for `Accept: application/json`, as JSON.
 */
export function createExpressDemo(engine: FormSecurity, hints: readonly string[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '32kb' }));
  app.use(express.json({ limit: '32kb' }));
  // The demo trusts X-Forwarded-For from loopback so that curl can pretend to come from elsewhere.
  app.use(formSecurity({ engine, subject: { trustProxy: ['loopback'] } }));

  app.get('/', (_req, res) => {
    res.type('html').send(formPage(hints));
  });
  app.post('/contact', (req, res) => {
    const verdict = req.formSecurity;
    if (verdict === undefined) res.status(500).send('FormSecurity did not run');
    else if (req.accepts(['html', 'json']) === 'json') res.json(verdict);
    else res.type('html').send(verdictPage(verdict));
  });
  return app;
}
