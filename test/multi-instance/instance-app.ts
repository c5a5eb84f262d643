/**
 * One app instance for the multi-instance suite and the upstream-calls bench: an Express
 * app with FormSecurity on a shared Redis, in a process of its own.
 *
 *   FORMSECURITY_INSTANCE='{"redisUrl":…}' node --import tsx test/multi-instance/instance-app.ts
 *
 * Routes: `POST /contact` (the form, answers the verdict as JSON), `GET /_instance`
 * (breaker states, cache health and stats, the engine events seen), `POST /_purge`
 * (`{"ip": …}`: forgets that subject in every instance). Announces `READY {"port":…}`.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { consecutiveFailures, createFormSecurity, engineInternals, silentLogger } from '@formsecurity/core';
import type { EngineEvent, ProviderRegistration } from '@formsecurity/core';
import { formSecurity } from '@formsecurity/express';
import { abuseIpdb, stopForumSpam } from '@formsecurity/providers';
import { announceReady, onTermination } from '../../bench/lib/child.js';

/** What the parent passes in `FORMSECURITY_INSTANCE`. */
export interface InstanceConfig {
  readonly redisUrl: string;
  /** Cache namespace; instances that share answers share it (and the secret). */
  readonly namespace: string;
  readonly secret: string;
  /** Prefix of every quota key. */
  readonly quotaKeyPrefix: string;
  readonly stopForumSpamUrl: string;
  readonly abuseIpdb?: { readonly url: string; readonly key: string; readonly dailyLimit: number };
  /** Breaker of every provider: open after `threshold` failures in a row, for `openMs`. */
  readonly breaker?: { readonly threshold: number; readonly openMs: number };
  readonly budgetMs?: number;
  /** Timeout of each cache L2 operation (default: the cache's, 20 ms). */
  readonly l2TimeoutMs?: number;
}

/** What `GET /_instance` answers. */
export interface InstanceState {
  readonly pid: number;
  readonly breakers: Readonly<Record<string, string>>;
  readonly cache: { readonly l2: string; readonly crossInstance: boolean; readonly fetches: number; readonly l1Hits: number };
  readonly events: readonly EngineEvent[];
}

function readConfig(): InstanceConfig {
  const raw = process.env['FORMSECURITY_INSTANCE'];
  if (raw === undefined) throw new Error('FORMSECURITY_INSTANCE is not set');
  return JSON.parse(raw) as InstanceConfig;
}

function registrations(config: InstanceConfig): ProviderRegistration[] {
  const breaker =
    config.breaker === undefined
      ? {}
      : {
          breaker: {
            strategy: consecutiveFailures({ threshold: config.breaker.threshold }),
            backoff: { initialMs: config.breaker.openMs, maxMs: config.breaker.openMs, jitter: 0 },
          },
        };
  const quota = (dailyLimit: number) => ({ quota: { daily: { limit: dailyLimit }, keyPrefix: config.quotaKeyPrefix } });
  const list: ProviderRegistration[] = [
    { provider: stopForumSpam({ baseUrl: config.stopForumSpamUrl }), ...breaker, ...quota(20_000) },
  ];
  if (config.abuseIpdb !== undefined) {
    const { url, key, dailyLimit } = config.abuseIpdb;
    list.push({ provider: abuseIpdb({ key, baseUrl: url }), ...breaker, ...quota(dailyLimit) });
  }
  return list;
}

async function main(): Promise<void> {
  const config = readConfig();
  const engine = createFormSecurity({
    redis: { url: config.redisUrl },
    cache: {
      secret: config.secret,
      namespace: config.namespace,
      ...(config.l2TimeoutMs === undefined ? {} : { l2TimeoutMs: config.l2TimeoutMs }),
    },
    providers: registrations(config),
    policy: { budgetMs: config.budgetMs ?? 100 },
    logger: silentLogger,
  });
  const internals = engineInternals(engine);
  const events: EngineEvent[] = [];
  engine.on('*', (event) => {
    events.push(event);
  });
  await internals?.cache?.ready();

  const app = express();
  app.use(express.urlencoded({ extended: false }), express.json());
  app.post('/contact', formSecurity({ engine, subject: { trustProxy: 1 } }), (req, res) => {
    res.json(req.formSecurity ?? null);
  });
  app.get('/_instance', (_req, res) => {
    const breakers: Record<string, string> = {};
    for (const [name, breaker] of internals?.breakers ?? []) breakers[name] = breaker.state.kind;
    const stats = internals?.cache?.stats();
    const health = internals?.cache?.health();
    const state: InstanceState = {
      pid: process.pid,
      breakers,
      cache: {
        l2: health?.l2 ?? 'off',
        crossInstance: health?.crossInstance ?? false,
        fetches: stats?.fetches ?? 0,
        l1Hits: stats?.l1.hits ?? 0,
      },
      events,
    };
    res.json(state);
  });
  app.post('/_purge', (req, res, next) => {
    const ip = (req.body as { ip?: unknown }).ip;
    if (typeof ip !== 'string') {
      res.status(400).json({ error: 'ip required' });
      return;
    }
    engine.purge({ subject: { ip } }).then((report) => res.json(report ?? null), next);
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  onTermination(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.close();
  });
  announceReady({ port: (server.address() as AddressInfo).port });
}

await main();
