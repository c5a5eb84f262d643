/**
 * What every demo shares: the engine on embedded defaults (a loopback StopForumSpam fake
 * with a few listed values, unless STOPFORUMSPAM_BASE_URL names the real service, and a
 * local CIDR blocklist), its status page, the hints shown under the form, and a clean
 * shutdown.
 */
import { consecutiveFailures, createFormSecurity, createHealthMonitor } from '@formsecurity/core';
import type { FormSecurity } from '@formsecurity/core';
import { cidrBlocklist, stopForumSpam } from '@formsecurity/providers';
import { startFakeStopForumSpam } from '@formsecurity/testing';
import type { StopForumSpamFake } from '@formsecurity/testing';
import { STATUS_PATH, demoStatus } from './status.js';
import type { DemoStatus } from './status.js';

export interface DemoSetup {
  readonly engine: FormSecurity;
  readonly port: number;
  readonly hints: readonly string[];
  readonly fake: StopForumSpamFake | undefined;
  /** The status page's token and options, and the route that breaks the fake. */
  readonly status: DemoStatus;
  /** Prints the banner the tests wait for. */
  announce(framework: string): void;
  close(): Promise<void>;
}

export const BLOCKED_RANGE = '198.51.100.0/24';

/**
 * The engine of a demo: StopForumSpam (fake or real) and a local blocklist. Its breaker
 * opens after three failures in a row and probes again after ten seconds, so the status
 * page shows it open, half-open and closed within a minute.
 */
export function demoEngine(stopForumSpamUrl: string, budgetMs = 100): FormSecurity {
  const engine = createFormSecurity({
    providers: [
      {
        provider: stopForumSpam({ baseUrl: stopForumSpamUrl }),
        breaker: { strategy: consecutiveFailures({ threshold: 3 }), backoff: { initialMs: 10_000, maxMs: 30_000 } },
      },
      cidrBlocklist({ name: 'blocklist', ranges: [BLOCKED_RANGE] }),
    ],
    policy: { budgetMs },
  });
  // Quick to judge and a short cool-down, so each try in the demo shows its alerts.
  createHealthMonitor(engine, { cooldownMs: 5_000, refreshIntervalMs: 2_000, degradation: { minCalls: 3 } });
  return engine;
}

/** Starts the demo's engine and fake; `env` (default `process.env`) supplies PORT and the FORMSECURITY_* settings. */
export async function setUpDemo(env: NodeJS.ProcessEnv = process.env): Promise<DemoSetup> {
  const port = Number(env['PORT'] ?? 3000);
  const realUrl = env['STOPFORUMSPAM_BASE_URL'] || undefined;
  const budgetMs = Number(env['FORMSECURITY_BUDGET_MS'] || 100);
  const fake = realUrl === undefined ? await startFakeStopForumSpam() : undefined;
  fake?.list('email', 'spammer@example.com', { confidence: 99, frequency: 250 });
  fake?.list('username', 'spambot', { confidence: 70, frequency: 12 });
  fake?.list('ip', '203.0.113.66', { confidence: 95, frequency: 80 });
  const url = realUrl ?? (fake as StopForumSpamFake).url;
  const engine = demoEngine(url, budgetMs);
  const status = demoStatus(fake, env);
  const hints = [
    'E-mail <code>spammer@example.com</code>: listed on (the fake) StopForumSpam.',
    'Name <code>spambot</code>: a listed username.',
    "From a blocked address: <code>curl -H 'X-Forwarded-For: 198.51.100.23' -H 'Accept: application/json' " +
      `-d message=hi localhost:${port}/contact</code>`,
    'The status page (its address with the token is printed at start-up) shows each provider\'s breaker, latency, ' +
      'quota and alerts; its buttons make the StopForumSpam fake fail, so you can watch the breaker open.',
  ];
  return {
    engine,
    port,
    hints,
    fake,
    status,
    announce(framework) {
      console.log(`FormSecurity demo (${framework}) on http://localhost:${port}`);
      console.log(realUrl === undefined ? `StopForumSpam: loopback fake at ${url}` : `StopForumSpam: ${realUrl}`);
      // A random token is printed so the page can be opened; one from the environment never is.
      const page = status.tokenFromEnv ? `${STATUS_PATH}?token=<FORMSECURITY_STATUS_TOKEN>` : status.pageUrl;
      console.log(`Status page: http://localhost:${port}${page}`);
    },
    async close() {
      await Promise.allSettled([engine.close(), fake?.close()]);
    },
  };
}

/** Stops the demo on Ctrl-C or a termination signal. */
export function stopOnSignals(stop: () => Promise<void>): void {
  const handler = (): void => {
    void stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
