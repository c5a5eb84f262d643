/**
 * Every provider fake at once, so an application can run its own tests — degraded
 * behaviour included — fully offline: one call starts them, one `close()` ends them.
 */
import { startFakeAbuseIpdb } from './abuseipdb-fake.js';
import type { AbuseIpdbFake } from './abuseipdb-fake.js';
import { startFakeAkismet } from './akismet-fake.js';
import type { AkismetFake } from './akismet-fake.js';
import { startFakeCaptcha } from './captcha-fake.js';
import type { CaptchaFake } from './captcha-fake.js';
import { startFakeDns } from './dns-fake.js';
import type { DnsFake, DnsFakeOptions } from './dns-fake.js';
import type { FaultControl, HttpFault } from './fake-http-server.js';
import { startFakeIpApi } from './ipapi-fake.js';
import type { IpApiFake } from './ipapi-fake.js';
import { startFakeIpQualityScore } from './ipqualityscore-fake.js';
import type { IpQualityScoreFake } from './ipqualityscore-fake.js';
import { startFakeMaxmind } from './maxmind-fake.js';
import type { MaxmindFake } from './maxmind-fake.js';
import { startFakeModeration } from './moderation-fake.js';
import type { ModerationFake } from './moderation-fake.js';
import { startFakeStopForumSpam } from './stopforumspam-fake.js';
import type { StopForumSpamFake } from './stopforumspam-fake.js';

/** The blog URL the Akismet options point at; any absolute URL works with the fake. */
const FAKE_BLOG = 'https://forms.example.test';

/** The HTTP fakes, by handle name. */
export type HttpFakeName =
  | 'stopForumSpam'
  | 'akismet'
  | 'moderation'
  | 'turnstile'
  | 'hcaptcha'
  | 'abuseIpdb'
  | 'ipApi'
  | 'maxmind'
  | 'ipQualityScore';

/** Options of {@link startFakeProviders}. */
export interface FakeProvidersOptions {
  /** Options of the DNS blocklist fake (host, DQS keys, …). */
  readonly dns?: DnsFakeOptions;
}

/** How every fake goes down at once in {@link FakeProviders.outage}. */
export type OutageMode =
  /** Accept and never answer (DNS: drop the query): every call runs into its deadline. */
  | 'hang'
  /** Answer 503 (DNS: SERVFAIL). */
  | 'error'
  /** Cut the connection (DNS: no answer). */
  | 'reset';

/**
 * Provider options pointing at the fakes, ready to pass to the factories in
 * `@formsecurity/providers` (`stopForumSpam(fakes.options.stopForumSpam)`, …).
 */
export interface FakeProviderOptions {
  readonly stopForumSpam: { readonly baseUrl: string };
  readonly dnsbl: { readonly servers: readonly string[] };
  readonly akismet: { readonly apiKey: string; readonly blog: string; readonly baseUrl: string };
  readonly moderation: { readonly apiKey: string; readonly baseUrl: string };
  readonly turnstile: { readonly secret: string; readonly baseUrl: string };
  readonly hcaptcha: { readonly secret: string; readonly baseUrl: string };
}

/** Every fake, running. */
export interface FakeProviders {
  readonly stopForumSpam: StopForumSpamFake;
  readonly dns: DnsFake;
  readonly akismet: AkismetFake;
  readonly moderation: ModerationFake;
  readonly turnstile: CaptchaFake;
  readonly hcaptcha: CaptchaFake;
  readonly abuseIpdb: AbuseIpdbFake;
  readonly ipApi: IpApiFake;
  readonly maxmind: MaxmindFake;
  readonly ipQualityScore: IpQualityScoreFake;
  /** Base URL of each HTTP fake. */
  readonly urls: Readonly<Record<HttpFakeName, string>>;
  readonly options: FakeProviderOptions;
  /** Makes every fake fail the same way until {@link restore}. */
  outage(mode?: OutageMode): void;
  /** Ends every injected fault and latency; listings stay. */
  restore(): void;
  /** Forgets every listing, token, fault and recorded call. */
  reset(): void;
  /** Stops every fake, hanging requests included. */
  close(): Promise<void>;
}

/** What every fake has in common, for the loops below. */
interface Running {
  close(): Promise<void>;
  reset(): void;
}

async function startAll(options: FakeProvidersOptions, started: Running[]): Promise<Omit<FakeProviders, 'urls' | 'options' | 'outage' | 'restore' | 'reset' | 'close'>> {
  const keep = <T extends Running>(fake: T): T => {
    started.push(fake);
    return fake;
  };
  // One at a time, so a failure leaves a known list of fakes to close.
  const stopForumSpam = keep(await startFakeStopForumSpam());
  const dns = keep(await startFakeDns(options.dns));
  const akismet = keep(await startFakeAkismet());
  const moderation = keep(await startFakeModeration());
  const turnstile = keep(await startFakeCaptcha({ service: 'turnstile' }));
  const hcaptcha = keep(await startFakeCaptcha({ service: 'hcaptcha' }));
  const abuseIpdb = keep(await startFakeAbuseIpdb());
  const ipApi = keep(await startFakeIpApi());
  const maxmind = keep(await startFakeMaxmind());
  const ipQualityScore = keep(await startFakeIpQualityScore());
  return { stopForumSpam, dns, akismet, moderation, turnstile, hcaptcha, abuseIpdb, ipApi, maxmind, ipQualityScore };
}

/**
 * Starts every provider fake on loopback (free ports) and returns their handles, their
 * URLs, provider options pointing at them, and switches for a whole-sale outage. If one
 * fails to start, the ones already running are closed before the error is thrown.
 *
 * @example
 * const fakes = await startFakeProviders();
 * const engine = createFormSecurity({
 *   providers: [stopForumSpam(fakes.options.stopForumSpam), dnsbl(fakes.options.dnsbl)],
 * });
 * fakes.stopForumSpam.list('ip', '203.0.113.7', { confidence: 95 });
 * fakes.outage('hang'); // every provider now runs into the deadline: test onUnavailable
 * fakes.restore();
 * await fakes.close();
 */
export async function startFakeProviders(options: FakeProvidersOptions = {}): Promise<FakeProviders> {
  const started: Running[] = [];
  let fakes: Awaited<ReturnType<typeof startAll>>;
  try {
    fakes = await startAll(options, started);
  } catch (error) {
    await Promise.allSettled(started.map((fake) => fake.close()));
    throw error;
  }
  // Every HTTP fake understands the base faults, whatever else it adds.
  const http: readonly { readonly faults: Pick<FaultControl<HttpFault>, 'inject' | 'clear'> }[] = [fakes.stopForumSpam, fakes.akismet, fakes.moderation, fakes.turnstile, fakes.hcaptcha, fakes.abuseIpdb, fakes.ipApi, fakes.maxmind, fakes.ipQualityScore];

  return {
    ...fakes,
    urls: {
      stopForumSpam: fakes.stopForumSpam.url,
      akismet: fakes.akismet.url,
      moderation: fakes.moderation.url,
      turnstile: fakes.turnstile.url,
      hcaptcha: fakes.hcaptcha.url,
      abuseIpdb: fakes.abuseIpdb.url,
      ipApi: fakes.ipApi.url,
      maxmind: fakes.maxmind.url,
      ipQualityScore: fakes.ipQualityScore.url,
    },
    options: {
      stopForumSpam: { baseUrl: fakes.stopForumSpam.url },
      dnsbl: { servers: [fakes.dns.server] },
      akismet: { apiKey: fakes.akismet.apiKey, blog: FAKE_BLOG, baseUrl: fakes.akismet.url },
      moderation: { apiKey: fakes.moderation.apiKey, baseUrl: fakes.moderation.url },
      turnstile: { secret: fakes.turnstile.secret, baseUrl: fakes.turnstile.url },
      hcaptcha: { secret: fakes.hcaptcha.secret, baseUrl: fakes.hcaptcha.url },
    },
    outage(mode = 'hang') {
      for (const fake of http) {
        if (mode === 'hang') fake.faults.inject({ kind: 'hang' });
        else if (mode === 'reset') fake.faults.inject({ kind: 'reset' });
        else fake.faults.inject({ kind: 'status', status: 503 });
      }
      fakes.dns.faults.inject(mode === 'error' ? { kind: 'servfail' } : { kind: 'drop' });
    },
    restore() {
      for (const fake of http) fake.faults.clear();
      fakes.dns.faults.clear();
    },
    reset() {
      for (const fake of started) fake.reset();
    },
    async close() {
      await Promise.allSettled(started.map((fake) => fake.close()));
    },
  };
}
