import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express5 from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import type { Provider, Verdict } from '@formsecurity/core';
import { formSecurity } from '../src/index.js';

/** A provider that scores one listed IP and records which IPs it was asked about. */
function ipList(listed: string, score = 1) {
  const asked: string[] = [];
  const provider: Provider = {
    name: 'iplist',
    facets: ['ip'],
    async check(subject) {
      asked.push(subject.ip as string);
      return { score: subject.ip === listed ? score : 0, reasons: subject.ip === listed ? ['listed'] : [] };
    },
  };
  return { provider, asked };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

type AppFactory = typeof express5;
async function listen(app: ReturnType<AppFactory>): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function post(url: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
}

const echoVerdict = (req: express5.Request, res: express5.Response) => {
  res.json({ verdict: req.formSecurity ?? null });
};

for (const [label, express] of [['Express 5', express5], ['Express 4', express4 as unknown as AppFactory]] as const) {
  describe(label, () => {
    it('zero-config formSecurity() attaches a verdict to POSTs and leaves GETs alone', async () => {
      const app = express();
      app.use(express.urlencoded({ extended: false }));
      app.use(formSecurity());
      app.all('/form', echoVerdict);
      const url = await listen(app);

      const submitted = (await (await post(`${url}/form`, { email: 'a@b.co' })).json()) as { verdict: Verdict };
      expect(submitted.verdict).toMatchObject({ decision: 'allow', degraded: false, signals: {} });
      const fetched = (await (await fetch(`${url}/form`)).json()) as { verdict: Verdict | null };
      expect(fetched.verdict).toBeNull();
    });

    it('scores the real client IP and ignores a spoofed X-Forwarded-For from an untrusted peer', async () => {
      const { provider, asked } = ipList('127.0.0.1');
      const app = express();
      app.use(express.urlencoded({ extended: false }));
      app.use(formSecurity({ config: { providers: [provider] } }));
      app.post('/form', echoVerdict);
      const url = await listen(app);

      const res = await post(`${url}/form`, {}, { 'x-forwarded-for': '198.51.100.1' });
      const { verdict } = (await res.json()) as { verdict: Verdict };
      expect(asked).toEqual(['127.0.0.1']);
      expect(verdict).toMatchObject({ decision: 'block', score: 1 });
      expect(verdict.signals['iplist']?.status).toBe('fresh');
    });

    it('follows X-Forwarded-For through a trusted proxy', async () => {
      const { provider, asked } = ipList('203.0.113.50');
      const app = express();
      app.use(formSecurity({ config: { providers: [provider] }, subject: { trustProxy: ['loopback'] } }));
      app.post('/form', echoVerdict);
      const url = await listen(app);

      const { verdict } = (await (await post(`${url}/form`, {}, { 'x-forwarded-for': '203.0.113.50' })).json()) as {
        verdict: Verdict;
      };
      expect(asked).toEqual(['203.0.113.50']);
      expect(verdict.decision).toBe('block');
    });

    it('with enforce, answers a block with 403 JSON and never runs the handler', async () => {
      const { provider } = ipList('127.0.0.1');
      let handled = 0;
      const app = express();
      const guard = formSecurity({ config: { providers: [provider] } });
      app.post('/annotate', guard, (_req, res) => {
        handled++;
        res.send('ok');
      });
      app.post('/strict', guard.route({ enforce: true }), (_req, res) => {
        handled++;
        res.send('ok');
      });
      const url = await listen(app);

      const strict = await post(`${url}/strict`, {});
      expect(strict.status).toBe(403);
      expect(await strict.json()).toEqual({ error: 'blocked', decision: 'block' });
      expect(handled).toBe(0);
      const annotate = await post(`${url}/annotate`, {});
      expect(annotate.status).toBe(200);
      expect(handled).toBe(1);
    });

    it('answers a challenge through an overridable handler', async () => {
      const { provider } = ipList('127.0.0.1', 0.7);
      const app = express();
      app.use(
        formSecurity({
          config: { providers: [provider] },
          enforce: true,
          onChallenge: (req, res) => {
            res.status(401).type('text').send(`solve a captcha (score ${req.formSecurity?.score})`);
          },
        }),
      );
      app.post('/form', echoVerdict);
      const url = await listen(app);

      const res = await post(`${url}/form`, {});
      expect(res.status).toBe(401);
      expect(await res.text()).toBe('solve a captcha (score 0.7)');
    });

    it('applies route-level degradation: a required provider that fails blocks the submission', async () => {
      const down: Provider = { name: 'down', async check() { throw new Error('503'); } };
      const app = express();
      const guard = formSecurity({ config: { providers: [down] } });
      app.post('/open', guard, echoVerdict);
      app.post('/closed', guard.route({ require: ['down'], onUnavailable: 'block', enforce: true }), echoVerdict);
      const url = await listen(app);

      const open = (await (await post(`${url}/open`, {})).json()) as { verdict: Verdict };
      expect(open.verdict).toMatchObject({ decision: 'allow', degraded: true });
      const closed = await post(`${url}/closed`, {});
      expect(closed.status).toBe(403);
    });

    it('says so in the verdict when it runs before the body parser', async () => {
      const app = express();
      app.use(formSecurity());
      app.post('/form', echoVerdict);
      const url = await listen(app);

      const { verdict } = (await (await post(`${url}/form`, { email: 'a@b.co' })).json()) as { verdict: Verdict };
      expect(verdict.reasons.join()).toMatch(/body not parsed/);
    });

    it('rejects wrong route options when the route is declared, not per request', () => {
      const guard = formSecurity();
      expect(() => guard.route({ require: ['nobody'] })).toThrow(/unknown provider "nobody"/);
    });
  });
}
