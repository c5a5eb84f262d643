/**
 * Every built-in provider against the provider contract, each over its loopback fake.
 */
import { startFakeAbuseIpdb } from '../../testing/src/abuseipdb-fake.js';
import type { AbuseIpdbFake } from '../../testing/src/abuseipdb-fake.js';
import { startFakeIpApi } from '../../testing/src/ipapi-fake.js';
import type { IpApiFake } from '../../testing/src/ipapi-fake.js';
import { startFakeMaxmind } from '../../testing/src/maxmind-fake.js';
import type { MaxmindFake } from '../../testing/src/maxmind-fake.js';
import { startFakeIpQualityScore } from '../../testing/src/ipqualityscore-fake.js';
import type { IpQualityScoreFake } from '../../testing/src/ipqualityscore-fake.js';
import { abuseIpdb } from '../src/abuseipdb/provider.js';
import { ipApi } from '../src/ipapi/provider.js';
import { maxmindWebService } from '../src/maxmind/web-service.js';
import { ipQualityScore } from '../src/ipqualityscore/provider.js';
import { startFakeAkismet } from '../../testing/src/akismet-fake.js';
import type { AkismetFake } from '../../testing/src/akismet-fake.js';
import { startFakeCaptcha } from '../../testing/src/captcha-fake.js';
import type { CaptchaFake } from '../../testing/src/captcha-fake.js';
import { dnsFaults, dnsHang, httpFaults, httpHang, providerContract } from '../../testing/src/contract-suite.js';
import { startFakeDns } from '../../testing/src/dns-fake.js';
import type { DnsFake } from '../../testing/src/dns-fake.js';
import { startFakeModeration } from '../../testing/src/moderation-fake.js';
import type { ModerationFake } from '../../testing/src/moderation-fake.js';
import { startFakeStopForumSpam } from '../../testing/src/stopforumspam-fake.js';
import type { StopForumSpamFake } from '../../testing/src/stopforumspam-fake.js';
import { akismet } from '../src/akismet/provider.js';
import { hcaptcha, turnstile } from '../src/captcha/providers.js';
import { cidrBlocklist } from '../src/cidr-blocklist.js';
import { dnsbl } from '../src/dnsbl/provider.js';
import { spamhausZen } from '../src/dnsbl/zones.js';
import { issueFormTimestamp, minimumFillTime } from '../src/local/fill-time.js';
import { honeypot } from '../src/local/honeypot.js';
import { moderation } from '../src/moderation/provider.js';
import { stopForumSpam } from '../src/stopforumspam/provider.js';

const LISTED_IP = '203.0.113.7';
const CLEAN_IP = '198.51.100.1';

providerContract<StopForumSpamFake>('stopforumspam', {
  setup: () => startFakeStopForumSpam(),
  teardown: (fake) => fake.close(),
  reset: (fake) => fake.reset(),
  create: (fake) => stopForumSpam({ baseUrl: fake.url }),
  listed: { subject: { ip: LISTED_IP }, arrange: (fake) => fake.list('ip', LISTED_IP, { confidence: 90 }) },
  clean: { subject: { ip: CLEAN_IP } },
  hang: httpHang((fake) => fake),
  faults: [
    ...httpFaults((fake: StopForumSpamFake) => fake),
    { name: 'success 0', inject: (fake) => fake.faults.inject({ kind: 'api-error', error: 'busy' }), kind: 'http' },
  ],
  secrets: ['visitor@example.org'],
});

const DQS_KEY = 'contractdqskey0123456789ab';
providerContract<DnsFake>('dnsbl (Spamhaus ZEN over DQS)', {
  setup: () => startFakeDns({ keys: [DQS_KEY] }),
  teardown: (fake) => fake.close(),
  reset: (fake) => fake.reset(),
  create: (fake) => dnsbl({ servers: [fake.server], zones: [spamhausZen({ dqsKey: DQS_KEY })] }),
  listed: { subject: { ip: LISTED_IP }, arrange: (fake) => fake.list('zen.dq.spamhaus.net', LISTED_IP, '127.0.0.2') },
  clean: { subject: { ip: CLEAN_IP } },
  hang: dnsHang((fake) => fake),
  faults: dnsFaults((fake) => fake),
  secrets: [DQS_KEY],
});

providerContract<DnsFake>('dnsbl (IPv6 subject)', {
  setup: () => startFakeDns(),
  teardown: (fake) => fake.close(),
  reset: (fake) => fake.reset(),
  create: (fake) => dnsbl({ servers: [fake.server] }),
  listed: { subject: { ip: '2001:db8::bad' }, arrange: (fake) => fake.list('zen.spamhaus.org', '2001:db8::bad', '127.0.0.3') },
  clean: { subject: { ip: '2001:db8::1' } },
  hang: dnsHang((fake) => fake),
  faults: dnsFaults((fake) => fake),
});

const AKISMET_KEY = 'contract-akismet-key';
providerContract<AkismetFake>('akismet', {
  setup: () => startFakeAkismet({ apiKey: AKISMET_KEY }),
  teardown: (fake) => fake.close(),
  reset: (fake) => fake.reset(),
  create: (fake) => akismet({ apiKey: AKISMET_KEY, blog: 'https://forms.example.org', baseUrl: fake.url }),
  listed: { subject: { ip: LISTED_IP, content: 'cheap casino pills', email: 'visitor@example.org' }, arrange: (fake) => fake.markSpam({ contentIncludes: 'casino' }) },
  clean: { subject: { ip: CLEAN_IP, content: 'What are your opening hours?', email: 'visitor@example.org' } },
  hang: httpHang((fake) => fake),
  faults: [
    ...httpFaults((fake: AkismetFake) => fake),
    { name: 'an invalid answer (bad key)', inject: (fake) => fake.faults.inject({ kind: 'invalid' }), kind: 'auth' },
    { name: 'an invalid answer (bad user_ip)', inject: (fake) => fake.faults.inject({ kind: 'invalid', help: 'Empty "user_ip" value' }), kind: 'invalid-input' },
  ],
  secrets: [AKISMET_KEY, 'visitor@example.org', 'casino'],
});

const OPENAI_KEY = 'sk-contract-moderation-key';
providerContract<ModerationFake>('moderation', {
  setup: () => startFakeModeration({ apiKey: OPENAI_KEY }),
  teardown: (fake) => fake.close(),
  reset: (fake) => fake.reset(),
  create: (fake) => moderation({ apiKey: OPENAI_KEY, baseUrl: fake.url }),
  listed: { subject: { content: 'I will find you and hurt you' }, arrange: (fake) => fake.flag('hurt you', { violence: 0.9 }) },
  clean: { subject: { content: 'Lovely weather today.' } },
  hang: httpHang((fake) => fake),
  faults: [
    ...httpFaults((fake: ModerationFake) => fake),
    { name: '429 rate_limit_exceeded', inject: (fake) => fake.faults.inject({ kind: 'rate-limit-exceeded' }), kind: 'rate-limited' },
    { name: '429 insufficient_quota', inject: (fake) => fake.faults.inject({ kind: 'insufficient-quota' }), kind: 'quota-exceeded' },
    { name: 'an empty results list', inject: (fake) => fake.faults.inject({ kind: 'no-results' }), kind: 'malformed' },
  ],
  secrets: [OPENAI_KEY, 'hurt you'],
});

for (const service of ['turnstile', 'hcaptcha'] as const) {
  const field = service === 'turnstile' ? 'cf-turnstile-response' : 'h-captcha-response';
  const secret = `contract-${service}-secret`;
  providerContract<CaptchaFake>(service, {
    setup: () => startFakeCaptcha({ service, secret }),
    teardown: (fake) => fake.close(),
    reset: (fake) => fake.reset(),
    create: (fake) => (service === 'turnstile' ? turnstile : hcaptcha)({ secret, baseUrl: fake.url }),
    listed: { subject: { ip: LISTED_IP, fields: { [field]: 'forged-token' } } },
    clean: { subject: (fake) => ({ ip: CLEAN_IP, fields: { [field]: fake.issueToken() } }) },
    hang: httpHang((fake) => fake),
    faults: [
      ...httpFaults((fake: CaptchaFake) => fake),
      { name: 'invalid-input-secret', inject: (fake) => fake.faults.inject({ kind: 'error-codes', codes: ['invalid-input-secret'] }), kind: 'auth' },
      { name: 'internal-error', inject: (fake) => fake.faults.inject({ kind: 'error-codes', codes: ['internal-error'] }), kind: 'http' },
    ],
    secrets: [secret],
  });
}

providerContract('honeypot', {
  create: () => honeypot({ field: 'website' }),
  listed: { subject: { fields: { website: 'http://spam.example' } } },
  clean: { subject: { fields: { website: '' } } },
});

const FORM_SECRET = 'contract-form-signing-secret-0123';
providerContract('fill-time', {
  create: () => minimumFillTime({ secret: FORM_SECRET, minMs: 3000 }),
  listed: { subject: () => ({ fields: { 'fs-timestamp': issueFormTimestamp(FORM_SECRET) } }) },
  clean: { subject: () => ({ fields: { 'fs-timestamp': issueFormTimestamp(FORM_SECRET, { now: Date.now() - 10_000 }) } }) },
  secrets: [FORM_SECRET],
});

providerContract('cidr-blocklist', {
  create: () => cidrBlocklist({ ranges: ['203.0.113.0/24'] }),
  listed: { subject: { ip: LISTED_IP } },
  clean: { subject: { ip: CLEAN_IP } },
});

providerContract<AbuseIpdbFake>('abuseipdb', {
  setup: () => startFakeAbuseIpdb({ key: 'contract-abuseipdb-key' }),
  teardown: (f) => f.close(),
  reset: (f) => f.reset(),
  create: (f) => abuseIpdb({ key: 'contract-abuseipdb-key', baseUrl: f.url }),
  listed: { subject: { ip: LISTED_IP }, arrange: (f) => f.list(LISTED_IP, { abuseConfidenceScore: 90 }) },
  clean: { subject: { ip: CLEAN_IP } },
  hang: httpHang((f) => f),
  faults: httpFaults((f: AbuseIpdbFake) => f),
  secrets: ['contract-abuseipdb-key'],
});

providerContract<IpApiFake>('ip-api', {
  setup: () => startFakeIpApi(),
  teardown: (f) => f.close(),
  reset: (f) => f.reset(),
  create: (f) => ipApi({ baseUrl: f.url, acceptPlainHttp: true, denyCountries: ['XX'] }),
  listed: { subject: { ip: LISTED_IP }, arrange: (f) => f.locate(LISTED_IP, { countryCode: 'XX' }) },
  clean: { subject: { ip: CLEAN_IP }, arrange: (f) => f.locate(CLEAN_IP, { countryCode: 'DE' }) },
  hang: httpHang((f) => f),
  faults: httpFaults((f: IpApiFake) => f),
});

providerContract<MaxmindFake>('maxmind web service', {
  setup: () => startFakeMaxmind({ accountId: '42', licenseKey: 'contract-maxmind-license' }),
  teardown: (f) => f.close(),
  reset: (f) => f.reset(),
  create: (f) =>
    maxmindWebService({ accountId: '42', licenseKey: 'contract-maxmind-license', baseUrl: f.url, denyCountries: ['XX'] }),
  listed: { subject: { ip: LISTED_IP }, arrange: (f) => f.locate(LISTED_IP, { country: 'XX' }) },
  clean: { subject: { ip: CLEAN_IP }, arrange: (f) => f.locate(CLEAN_IP, { country: 'DE' }) },
  hang: httpHang((f) => f),
  faults: httpFaults((f: MaxmindFake) => f),
  secrets: ['contract-maxmind-license'],
});

providerContract<IpQualityScoreFake>('ipqualityscore', {
  setup: () => startFakeIpQualityScore({ key: 'contractipqskey0123' }),
  teardown: (f) => f.close(),
  reset: (f) => f.reset(),
  create: (f) => ipQualityScore({ key: 'contractipqskey0123', baseUrl: f.url }),
  listed: { subject: { ip: LISTED_IP }, arrange: (f) => f.score(LISTED_IP, { fraud_score: 95, recent_abuse: true }) },
  clean: { subject: { ip: CLEAN_IP } },
  hang: httpHang((f) => f),
  faults: httpFaults((f: IpQualityScoreFake) => f),
  secrets: ['contractipqskey0123'],
});
