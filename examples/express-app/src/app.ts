import express from 'express';
import type { Express } from 'express';
import { createFormSecurity } from '@formsecurity/core';
import type { FormSecurity } from '@formsecurity/core';
import { formSecurity } from '@formsecurity/express';
import { cidrBlocklist, stopForumSpam } from '@formsecurity/providers';
import { formPage, verdictPage } from './page.js';

export interface DemoOptions {
  /** StopForumSpam's base URL: the loopback fake, or the real service. */
  readonly stopForumSpamUrl: string;
  /** Addresses the demo's own blocklist refuses. */
  readonly blockedRanges?: readonly string[];
  /** The deadline of each evaluation (default 100 ms). */
  readonly budgetMs?: number;
  /** Hints shown under the form. */
  readonly hints?: readonly string[];
}

export interface Demo {
  readonly app: Express;
  readonly engine: FormSecurity;
}

/**
 * The demo site: a contact form whose submissions get a FormSecurity verdict, shown as
 * a page or, for `Accept: application/json`, as JSON.
 */
export function createDemoApp(options: DemoOptions): Demo {
  const engine = createFormSecurity({
    providers: [
      stopForumSpam({ baseUrl: options.stopForumSpamUrl }),
      cidrBlocklist({ name: 'blocklist', ranges: [...(options.blockedRanges ?? [])] }),
    ],
    policy: { budgetMs: options.budgetMs ?? 100 },
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '32kb' }));
  app.use(express.json({ limit: '32kb' }));
  // The demo trusts X-Forwarded-For from loopback so that curl can pretend to come from elsewhere.
  app.use(formSecurity({ engine, subject: { trustProxy: ['loopback'] } }));

  app.get('/', (_req, res) => {
    res.type('html').send(formPage(options.hints ?? []));
  });
  app.post('/contact', (req, res) => {
    const verdict = req.formSecurity;
    if (verdict === undefined) {
      res.status(500).send('FormSecurity did not run');
      return;
    }
    if (req.accepts(['html', 'json']) === 'json') res.json(verdict);
    else res.type('html').send(verdictPage(verdict));
  });
  return { app, engine };
}
