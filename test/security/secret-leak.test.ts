/**
 * Acceptance: no secret leaves through anything FormSecurity emits. Every provider runs
 * against its loopback fake with known keys (as Secrets, as plain strings and as a
 * rotating secret), through healthy calls, every kind of outage and garbage answer,
 * refused keys, moderator reports and an erasure; then every log line, event, verdict,
 * error, health snapshot and the Redis namespace used as cache L2 are searched.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, createFormSecurity, engineInternals, secretFrom } from '@formsecurity/core';
import type { FormSecurity, Provider, RotatingSecret, Subject } from '@formsecurity/core';
import {
  abuseIpdb,
  akismet,
  dnsbl,
  hcaptcha,
  ipApi,
  ipQualityScore,
  maxmindWebService,
  moderation,
  spamhausZen,
  stopForumSpam,
  turnstile,
} from '@formsecurity/providers';
import { startFakeProviders } from '@formsecurity/testing';
import type { FakeProviders, HttpFault } from '@formsecurity/testing';
import { capturingLogger } from './support/capture.js';
import type { CapturingLogger } from './support/capture.js';
import { REDIS_URL, connect, dump, removeAll, uniquePrefix } from './support/redis.js';

const DQS_KEY = 'leakdqs7f3a9c';
const IPAPI_KEY = 'leak-ipapi-pro-key-5e1b';
const CACHE_SECRET = 'leak-cache-secret-2b7d4f91c0';
const WRONG = (name: string) => `leak-wrong-${name}-key-0c4e`;

type RedisClient = Awaited<ReturnType<typeof connect>>;

let fakes: FakeProviders;
let redis: RedisClient;
let prefix: string;
let logger: CapturingLogger;
let engine: FormSecurity;
let wrongKeys: FormSecurity;
let rotating: RotatingSecret;
let secrets: string[];
/** Everything emitted, by where it came from, as text. */
const emitted: Record<string, string[]> = { verdicts: [], events: [], errors: [], reports: [], health: [], printed: [] };
/** Raw subject values that must never reach Redis. */
const rawValues: string[] = [];

let counter = 0;
function nextSubject(): Subject {
  counter++;
  const ip = counter % 3 === 0 ? `2001:db8::${counter.toString(16)}:7` : `203.0.113.${counter}`;
  const subject: Subject = {
    ip,
    email: `leak-probe-${counter}@leak-test.example`,
    username: `leak-user-${counter}`,
    content: `leak probe message number ${counter}, buy cheap watches`,
    userAgent: 'LeakTest/1.0',
    fields: {
      'cf-turnstile-response': fakes.turnstile.issueToken(),
      'h-captcha-response': fakes.hcaptcha.issueToken(),
      website: '',
    },
  };
  rawValues.push(ip, subject.email as string, subject.content as string);
  return subject;
}

function providersWith(keys: {
  abuseIpdb: string | Secret;
  akismet: string | Secret;
  moderation: string | Secret;
  turnstile: string | Secret;
  hcaptcha: string | Secret;
  maxmind: string | Secret;
  ipqs: string | Secret;
  ipApi: string | Secret;
  dqs: string | Secret;
}): Provider[] {
  return [
    stopForumSpam(fakes.options.stopForumSpam),
    dnsbl({ ...fakes.options.dnsbl, zones: [spamhausZen({ dqsKey: keys.dqs })] }),
    akismet({ ...fakes.options.akismet, apiKey: keys.akismet }),
    moderation({ ...fakes.options.moderation, apiKey: keys.moderation }),
    turnstile({ ...fakes.options.turnstile, secret: keys.turnstile }),
    hcaptcha({ ...fakes.options.hcaptcha, secret: keys.hcaptcha }),
    abuseIpdb({ key: keys.abuseIpdb, baseUrl: fakes.urls.abuseIpdb }),
    ipApi({ key: keys.ipApi, baseUrl: fakes.urls.ipApi }),
    maxmindWebService({ accountId: fakes.maxmind.accountId, licenseKey: keys.maxmind, baseUrl: fakes.urls.maxmind }),
    ipQualityScore({ key: keys.ipqs, baseUrl: fakes.urls.ipQualityScore }),
  ];
}

async function evaluate(target: FormSecurity, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const verdict = await target.evaluate(nextSubject());
    emitted['verdicts']?.push(JSON.stringify(verdict), inspect(verdict, { depth: 8 }));
  }
}

/** Calls each provider directly, as an application's own code might, and keeps what it throws. */
async function callDirectly(providers: readonly Provider[]): Promise<void> {
  const subject = nextSubject();
  await Promise.all(
    providers.map(async (provider) => {
      try {
        const result = await provider.check(subject, { signal: AbortSignal.timeout(400) });
        emitted['verdicts']?.push(JSON.stringify(result));
      } catch (error) {
        emitted['errors']?.push(
          String(error),
          JSON.stringify(error),
          inspect(error, { depth: 8, showHidden: true }),
          String((error as { cause?: unknown }).cause ?? ''),
        );
      }
    }),
  );
}

async function snapshotHealth(target: FormSecurity): Promise<void> {
  const internals = engineInternals(target);
  if (internals === undefined) throw new Error('engine internals missing');
  for (const breaker of internals.breakers.values()) emitted['health']?.push(JSON.stringify(breaker.toJSON()));
  for (const quota of internals.quotas.values()) emitted['health']?.push(JSON.stringify(await quota.snapshot()));
  emitted['health']?.push(JSON.stringify(internals.cache?.stats()), JSON.stringify(internals.cache?.health()));
  emitted['printed']?.push(inspect(internals, { depth: 6, showHidden: true }), inspect(target, { depth: 6 }));
}

beforeAll(async () => {
  fakes = await startFakeProviders({ dns: { keys: [DQS_KEY] } });
  redis = await connect();
  prefix = uniquePrefix('leak');
  logger = capturingLogger();
  rotating = await secretFrom(() => fakes.abuseIpdb.key, { refreshMs: 1_000, label: 'vault:abuseipdb', logger });
  secrets = [
    fakes.abuseIpdb.key,
    fakes.akismet.apiKey,
    fakes.moderation.apiKey,
    fakes.turnstile.secret,
    fakes.hcaptcha.secret,
    fakes.maxmind.licenseKey,
    fakes.ipQualityScore.key,
    IPAPI_KEY,
    DQS_KEY,
    CACHE_SECRET,
    ...['abuseipdb', 'akismet', 'moderation', 'turnstile', 'hcaptcha', 'maxmind', 'ipqs', 'ipapi'].map(WRONG),
  ];
  // A listing or two, so answers carry data as well as scores.
  fakes.stopForumSpam.list('email', 'leak-probe-1@leak-test.example', { confidence: 90 });
  fakes.abuseIpdb.list('203.0.113.2', { abuseConfidenceScore: 80, totalReports: 3 });
  fakes.dns.list('zen.dq.spamhaus.net', '203.0.113.4', '127.0.0.2');
  fakes.ipQualityScore.score('203.0.113.5', { fraud_score: 90, proxy: true });
  fakes.akismet.markSpam({ contentIncludes: 'cheap watches' });
  fakes.moderation.flag('watches', { harassment: 0.7 });
  fakes.maxmind.locate('203.0.113.0/24', { country: 'DE', city: 'Berlin' });

  const common = { logger, policy: { budgetMs: 300 } } as const;
  engine = createFormSecurity({
    ...common,
    providers: providersWith({
      abuseIpdb: rotating,
      akismet: new Secret(fakes.akismet.apiKey),
      moderation: fakes.moderation.apiKey,
      turnstile: new Secret(fakes.turnstile.secret, { label: 'TURNSTILE_SECRET' }),
      hcaptcha: fakes.hcaptcha.secret,
      maxmind: new Secret(fakes.maxmind.licenseKey),
      ipqs: new Secret(fakes.ipQualityScore.key),
      ipApi: new Secret(IPAPI_KEY),
      dqs: new Secret(DQS_KEY),
    }),
    cache: { secret: new Secret(CACHE_SECRET, { label: 'FORMSECURITY_CACHE_SECRET' }), namespace: `${prefix}cache`, l2: { redis: { url: REDIS_URL } } },
  } as never);
  wrongKeys = createFormSecurity({
    ...common,
    providers: providersWith({
      abuseIpdb: new Secret(WRONG('abuseipdb')),
      akismet: WRONG('akismet'),
      moderation: new Secret(WRONG('moderation')),
      turnstile: WRONG('turnstile'),
      hcaptcha: new Secret(WRONG('hcaptcha')),
      maxmind: WRONG('maxmind'),
      ipqs: WRONG('ipqs'),
      ipApi: WRONG('ipapi'),
      dqs: DQS_KEY,
    }),
    cache: false,
  });
  for (const target of [engine, wrongKeys]) target.on('*', (event) => void emitted['events']?.push(JSON.stringify(event)));
  const providers = providersWith({
    abuseIpdb: rotating,
    akismet: fakes.akismet.apiKey,
    moderation: new Secret(fakes.moderation.apiKey),
    turnstile: fakes.turnstile.secret,
    hcaptcha: new Secret(fakes.hcaptcha.secret),
    maxmind: fakes.maxmind.licenseKey,
    ipqs: fakes.ipQualityScore.key,
    ipApi: IPAPI_KEY,
    dqs: new Secret(DQS_KEY),
  });
  emitted['printed']?.push(inspect(providers, { depth: 6, showHidden: true }), JSON.stringify(providers));

  // Healthy calls, one subject twice (served from the cache), then every outage.
  await evaluate(engine, 6);
  const repeated = nextSubject();
  for (let i = 0; i < 2; i++) emitted['verdicts']?.push(JSON.stringify(await engine.evaluate(repeated)));
  await callDirectly(providers);
  for (const mode of ['hang', 'error', 'reset'] as const) {
    fakes.outage(mode);
    await evaluate(engine, 3);
    await callDirectly(providers);
    fakes.restore();
  }
  // Garbage answers of every kind the HTTP fakes can give, and a DNS lookup error.
  for (const kind of ['malformed-json', 'html', 'truncated', 'rate-limit'] as const) {
    const http: readonly { readonly faults: { inject(fault: HttpFault): void } }[] = [
      fakes.stopForumSpam,
      fakes.akismet,
      fakes.moderation,
      fakes.turnstile,
      fakes.hcaptcha,
      fakes.abuseIpdb,
      fakes.ipApi,
      fakes.maxmind,
      fakes.ipQualityScore,
    ];
    for (const fake of http) fake.faults.inject({ kind });
    fakes.dns.faults.inject({ kind: 'lookup-error' });
    await evaluate(engine, 2);
    await callDirectly(providers);
    fakes.restore();
  }
  // Keys the services refuse.
  await evaluate(wrongKeys, 3);
  await callDirectly(providersWith({
    abuseIpdb: WRONG('abuseipdb'),
    akismet: new Secret(WRONG('akismet')),
    moderation: WRONG('moderation'),
    turnstile: new Secret(WRONG('turnstile')),
    hcaptcha: WRONG('hcaptcha'),
    maxmind: new Secret(WRONG('maxmind')),
    ipqs: new Secret(WRONG('ipqs')),
    ipApi: new Secret(WRONG('ipapi')),
    dqs: DQS_KEY,
  }));
  // Moderator feedback, a rotation of the vault key, and an erasure request.
  const reported = nextSubject();
  await engine.evaluate(reported);
  emitted['reports']?.push(JSON.stringify(await engine.report(reported, 'spam')), JSON.stringify(await engine.report(reported, 'ham')));
  emitted['reports']?.push(JSON.stringify(await wrongKeys.report(reported, 'spam')));
  await rotating.refresh();
  await evaluate(engine, 2);
  emitted['reports']?.push(JSON.stringify(await engine.purge({ subject: reported })));
  await snapshotHealth(engine);
  await snapshotHealth(wrongKeys);
}, 60_000);

afterAll(async () => {
  rotating?.stop();
  await Promise.allSettled([engine?.close(), wrongKeys?.close()]);
  await fakes?.close();
  if (redis !== undefined) {
    await removeAll(redis, prefix);
    await redis.quit();
  }
});

function expectNoSecret(texts: readonly string[] | undefined, where: string): void {
  expect(texts?.length ?? 0, `${where}: nothing was captured`).toBeGreaterThan(0);
  const all = (texts ?? []).join('\n');
  for (const secret of secrets) expect(all.includes(secret), `${where} contains a secret`).toBe(false);
}

describe('no secret in anything FormSecurity emits', () => {
  it('ran the scenarios it claims: failures of every kind, refused keys and warnings were seen', () => {
    const verdicts = emitted['verdicts']?.join('\n') ?? '';
    for (const status of ['"fresh"', '"cached"', '"timeout"', '"error"']) expect(verdicts).toContain(status);
    const codes = `${verdicts}\n${emitted['errors']?.join('\n')}`;
    expect(codes).toContain('auth');
    expect(codes).toContain('malformed');
    expect(emitted['errors']?.length).toBeGreaterThan(20);
    expect(logger.lines.some((line) => line.level === 'warn')).toBe(true);
  });

  it('log lines (every level)', () => {
    expectNoSecret([logger.text()], 'the log');
  });

  it('log lines hold no raw IP or e-mail either', () => {
    const text = logger.text();
    for (const value of rawValues) expect(text.includes(value), value).toBe(false);
  });

  it('events', () => expectNoSecret(emitted['events'], 'events'));
  it('verdicts and provider results', () => expectNoSecret(emitted['verdicts'], 'verdicts'));
  it('errors thrown by providers, with their causes', () => expectNoSecret(emitted['errors'], 'errors'));
  it('report and purge outcomes', () => expectNoSecret(emitted['reports'], 'reports'));
  it('breaker, quota and cache snapshots', () => expectNoSecret(emitted['health'], 'health'));
  it('providers, engines and their internals when printed', () => expectNoSecret(emitted['printed'], 'printed objects'));

  it('the Redis namespace used as cache L2 holds no raw IP, e-mail, message or secret', async () => {
    const entries = await dump(redis, prefix);
    expect(entries.length, 'the cache wrote nothing to Redis').toBeGreaterThan(5);
    const text = entries.map(({ key, value }) => `${key} ${value}`).join('\n');
    for (const value of rawValues) expect(text.includes(value), `Redis holds ${value}`).toBe(false);
    for (const secret of secrets) expect(text.includes(secret), 'Redis holds a secret').toBe(false);
  });
});
