/**
 * What every demo shares: the engine on embedded defaults (a loopback StopForumSpam fake
 * with a few listed values, unless STOPFORUMSPAM_BASE_URL names the real service, and a
 * local CIDR blocklist), the hints shown under the form, and a clean shutdown.
 */
import { createFormSecurity } from '@formsecurity/core';
import type { FormSecurity } from '@formsecurity/core';
import { cidrBlocklist, stopForumSpam } from '@formsecurity/providers';
import { startFakeStopForumSpam } from '@formsecurity/testing';
import type { StopForumSpamFake } from '@formsecurity/testing';

export interface DemoSetup {
  readonly engine: FormSecurity;
  readonly port: number;
  readonly hints: readonly string[];
  readonly fake: StopForumSpamFake | undefined;
  /** Prints the banner the tests wait for. */
  announce(framework: string): void;
  close(): Promise<void>;
}

export const BLOCKED_RANGE = '198.51.100.0/24';

/** The engine of a demo: StopForumSpam (fake or real) and a local blocklist. */
export function demoEngine(stopForumSpamUrl: string, budgetMs = 100): FormSecurity {
  return createFormSecurity({
    providers: [
      stopForumSpam({ baseUrl: stopForumSpamUrl }),
      cidrBlocklist({ name: 'blocklist', ranges: [BLOCKED_RANGE] }),
    ],
    policy: { budgetMs },
  });
}

export async function setUpDemo(): Promise<DemoSetup> {
  const port = Number(process.env['PORT'] ?? 3000);
  const realUrl = process.env['STOPFORUMSPAM_BASE_URL'] || undefined;
  const budgetMs = Number(process.env['FORMSECURITY_BUDGET_MS'] || 100);
  const fake = realUrl === undefined ? await startFakeStopForumSpam() : undefined;
  fake?.list('email', 'spammer@example.com', { confidence: 99, frequency: 250 });
  fake?.list('username', 'spambot', { confidence: 70, frequency: 12 });
  fake?.list('ip', '203.0.113.66', { confidence: 95, frequency: 80 });
  const url = realUrl ?? (fake as StopForumSpamFake).url;
  const engine = demoEngine(url, budgetMs);
  const hints = [
    'E-mail <code>spammer@example.com</code>: listed on (the fake) StopForumSpam.',
    'Name <code>spambot</code>: a listed username.',
    "From a blocked address: <code>curl -H 'X-Forwarded-For: 198.51.100.23' -H 'Accept: application/json' " +
      `-d message=hi localhost:${port}/contact</code>`,
  ];
  return {
    engine,
    port,
    hints,
    fake,
    announce(framework) {
      console.log(`FormSecurity demo (${framework}) on http://localhost:${port}`);
      console.log(realUrl === undefined ? `StopForumSpam: loopback fake at ${url}` : `StopForumSpam: ${realUrl}`);
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
