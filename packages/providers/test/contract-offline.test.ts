/**
 * The built-in providers wired into a real engine against startFakeProviders(): what an
 * application's own offline test looks like, degraded behaviour included.
 */
import { createFormSecurity } from '@formsecurity/core';
import type { FormSecurity, Subject } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProviders } from '../../testing/src/start-fake-providers.js';
import type { FakeProviders } from '../../testing/src/start-fake-providers.js';
import { akismet } from '../src/akismet/provider.js';
import { isChallengePassed, turnstile } from '../src/captcha/providers.js';
import { dnsbl } from '../src/dnsbl/provider.js';
import { honeypot } from '../src/local/honeypot.js';
import { moderation } from '../src/moderation/provider.js';
import { stopForumSpam } from '../src/stopforumspam/provider.js';

let fakes: FakeProviders;
let engine: FormSecurity;

const SPAMMER: Subject = {
  ip: '203.0.113.7',
  email: 'bot@spam.example',
  content: 'cheap casino bonus',
  fields: { website: '' },
};
/** A different visitor per test, so no test is answered from the engine's cache of another. */
const visitor = (n: number): Subject => ({
  ip: `198.51.100.${n}`,
  email: `visitor${n}@example.org`,
  content: `Question number ${n}: what are your opening hours?`,
  fields: { website: '' },
});

beforeAll(async () => {
  fakes = await startFakeProviders();
  engine = createFormSecurity({
    providers: [
      stopForumSpam(fakes.options.stopForumSpam),
      dnsbl({ ...fakes.options.dnsbl, timeoutMs: 2000 }),
      akismet(fakes.options.akismet),
      moderation(fakes.options.moderation),
      turnstile(fakes.options.turnstile),
      honeypot({ field: 'website' }),
    ],
    policy: { budgetMs: 1500 },
  });
});
afterAll(async () => {
  // Close the fakes even when the engine could not be built.
  await (engine as FormSecurity | undefined)?.close();
  await (fakes as FakeProviders | undefined)?.close();
});
beforeEach(() => fakes.reset());

describe('an engine over startFakeProviders()', () => {
  it('blocks a listed spammer on fresh answers from every provider', async () => {
    fakes.stopForumSpam.list('ip', SPAMMER.ip as string, { confidence: 95 });
    fakes.dns.list('zen.spamhaus.org', SPAMMER.ip as string, '127.0.0.2');
    fakes.akismet.markSpam({ contentIncludes: 'casino' });
    const verdict = await engine.evaluate(SPAMMER);
    expect(verdict.decision).toBe('block');
    expect(verdict.degraded).toBe(false);
    for (const name of ['stopforumspam', 'dnsbl', 'akismet', 'moderation', 'honeypot']) expect(verdict.signals[name]?.status).toBe('fresh');
    expect(verdict.signals['turnstile']).toMatchObject({ status: 'fresh', data: { challenge: 'absent' } });
  });

  it('allows a clean visitor, and sees a passed challenge', async () => {
    const token = fakes.turnstile.issueToken();
    const verdict = await engine.evaluate({ ...visitor(1), fields: { website: '', 'cf-turnstile-response': token } });
    expect(verdict.decision).toBe('allow');
    expect(isChallengePassed(verdict)).toBe(true);
  });

  it('degrades, within the budget, when every upstream hangs — local providers still answer', async () => {
    fakes.outage('hang');
    const verdict = await engine.evaluate({ ...visitor(2), fields: { website: 'http://spam.example', 'cf-turnstile-response': 'tok' } });
    expect(verdict.degraded).toBe(true);
    for (const name of ['stopforumspam', 'dnsbl', 'akismet', 'moderation', 'turnstile']) expect(verdict.signals[name]?.status).toBe('timeout');
    expect(verdict.signals['honeypot']).toMatchObject({ status: 'fresh', score: 1 });
    expect(verdict.decision).toBe('block');
  });

  it('turns an outage of errors into error signals without secrets', async () => {
    fakes.outage('error');
    const verdict = await engine.evaluate(visitor(3));
    for (const name of ['stopforumspam', 'dnsbl', 'akismet', 'moderation']) expect(verdict.signals[name]?.status).toBe('error');
    const shown = JSON.stringify(verdict);
    for (const secret of [fakes.akismet.apiKey, fakes.moderation.apiKey, fakes.turnstile.secret, 'visitor3@example.org']) expect(shown).not.toContain(secret);
    fakes.restore();
    expect((await engine.evaluate(visitor(4))).degraded).toBe(false);
  });
});
