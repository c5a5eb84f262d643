import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeIpQualityScore } from '../../testing/src/ipqualityscore-fake.js';
import type { IpQualityScoreFake, IpQualityScoreFault } from '../../testing/src/ipqualityscore-fake.js';
import { ipQualityScoreFailureKind } from '../src/ipqualityscore/answer.js';
import { IP_QUALITY_SCORE_DEFAULTS, IP_QUALITY_SCORE_LIMITS, ipQualityScore } from '../src/ipqualityscore/provider.js';
import { httpFaults, httpHang, providerContract } from '../../testing/src/contract-suite.js';

const KEY = 'ipqs-secret-0c7f2a9b4e';
const IP = '203.0.113.7';
const never = (): AbortSignal => new AbortController().signal;

let fake: IpQualityScoreFake;
const provider = (key = KEY): ReturnType<typeof ipQualityScore> => ipQualityScore({ key, baseUrl: fake.url });

async function failure(run: () => Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await run();
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
const checkFailure = (key = KEY, ip = IP): Promise<ProviderResponseError> => failure(() => provider(key).check({ ip }, { signal: never() }));

beforeAll(async () => {
  fake = await startFakeIpQualityScore({ key: KEY, credits: 100 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('ipQualityScore answers', () => {
  it('scores the fraud score, names the flags, and keeps neither the address nor its host name', async () => {
    fake.score(IP, { fraud_score: 88, vpn: true, active_vpn: true, recent_abuse: true, connection_type: 'Data Center', abuse_velocity: 'high' });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBeCloseTo(0.88);
    expect(result.reasons).toEqual(['IPQualityScore fraud score 88 (VPN, recent abuse)']);
    expect(result.data).toEqual({
      fraudScore: 88,
      proxy: false,
      vpn: true,
      tor: false,
      activeVpn: true,
      activeTor: false,
      recentAbuse: true,
      botStatus: false,
      isCrawler: false,
      mobile: false,
      connectionType: 'Data Center',
      abuseVelocity: 'high',
      countryCode: 'US',
      isp: 'Example ISP',
      asn: 64496,
      organization: 'Example Org',
    });
    const kept = JSON.stringify(result);
    expect(kept).not.toContain(IP);
    expect(kept).not.toContain('203-0-113-7');
  });

  it('scores a clean address 0 with no reasons', async () => {
    const result = await provider().check({ ip: '2001:db8::5' }, { signal: never() });
    expect([result.score, result.reasons]).toEqual([0, []]);
  });

  it('sends the key in the path, strictness and public-access-point leniency in the query', async () => {
    await ipQualityScore({ key: KEY, baseUrl: fake.url, strictness: 2, allowPublicAccessPoints: false }).check({ ip: IP }, { signal: never() });
    await provider().check({ ip: IP }, { signal: never() });
    const [strict, plain] = fake.calls.requests;
    expect(strict?.path).toBe(`/api/json/ip/[redacted]/${IP}`);
    expect(strict?.query).toEqual({ strictness: '2', allow_public_access_points: 'false' });
    expect(plain?.query).toEqual({ strictness: '0', allow_public_access_points: 'true' });
  });

  it('makes no call without an IP', async () => {
    expect(await provider().check({ email: 'someone@example.org' }, { signal: never() })).toEqual({ score: 0, reasons: [] });
    expect(fake.calls.count).toBe(0);
  });
});

describe('ipQualityScore failures', () => {
  it('classifies success false by its message', async () => {
    expect((await checkFailure('wrong-key')).kind).toBe('auth');
    fake.setCredits(0);
    expect((await checkFailure()).kind).toBe('quota-exceeded');
    fake.setCredits(10);
    const invalid = await checkFailure(KEY, 'not-an-address');
    expect(invalid.kind).toBe('invalid-input');
    expect(invalid.message).not.toContain('not-an-address');
    fake.faults.inject({ kind: 'api-error', message: 'Too many requests per second. Please slow down.' }, { times: 1 });
    expect((await checkFailure()).kind).toBe('rate-limited');
    fake.faults.inject({ kind: 'api-error', message: 'Temporary service issue.' }, { times: 1 });
    expect((await checkFailure()).kind).toBe('http');
  });

  it('reads the documented failure messages the way IPQualityScore words them', () => {
    expect(ipQualityScoreFailureKind('Invalid or unauthorized key. Please check the API key and try again.')).toBe('auth');
    expect(ipQualityScoreFailureKind('You have exceeded your request quota of 5,000 per month. Please upgrade to increase your request quota.')).toBe(
      'quota-exceeded',
    );
    expect(ipQualityScoreFailureKind('You have insufficient credits to make this query.')).toBe('quota-exceeded');
    expect(ipQualityScoreFailureKind('Invalid IPv4 address, IPv6 address or hostname.')).toBe('invalid-input');
    expect(ipQualityScoreFailureKind('')).toBe('http');
  });

  it.each([
    [{ kind: 'status', status: 500 }, 'http', 500],
    [{ kind: 'status', status: 403 }, 'auth', 403],
    [{ kind: 'rate-limit', retryAfter: 30 }, 'rate-limited', 429],
    [{ kind: 'malformed-json' }, 'malformed', undefined],
    [{ kind: 'html' }, 'malformed', 200],
    [{ kind: 'truncated' }, 'network', undefined],
    [{ kind: 'reset' }, 'network', undefined],
  ] as [IpQualityScoreFault, string, number | undefined][])('classifies %o as %s', async (fault, kind, status) => {
    fake.faults.inject(fault);
    const error = await checkFailure();
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
  });

  it('stops a hanging answer at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = provider().check({ ip: IP }, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    expect(request.path).toBe(`/api/json/ip/[redacted]/${IP}`);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never exposes the key, which travels in the path, in errors or recorded requests', async () => {
    const faults: IpQualityScoreFault[] = [
      { kind: 'api-error', message: `Invalid or unauthorized key ${KEY}.` },
      { kind: 'status', status: 500 },
      { kind: 'malformed-json' },
      { kind: 'html' },
      { kind: 'truncated' },
      { kind: 'reset' },
      { kind: 'rate-limit', retryAfter: 5 },
    ];
    const errors: ProviderResponseError[] = [];
    for (const fault of faults) {
      fake.faults.inject(fault, { times: 1 });
      errors.push(await checkFailure());
    }
    errors.push(await checkFailure(`${KEY}x`));
    errors.push(await checkFailure(KEY, 'not-an-address'));
    fake.setCredits(0);
    errors.push(await checkFailure());
    for (const error of errors) {
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)} ${error.stack ?? ''}`;
      for (const text of [KEY, IP, fake.url, '/api/json']) expect(exposed, `${error.message} exposes ${text}`).not.toContain(text);
      expect(error.message.startsWith('ipqualityscore: ')).toBe(true);
    }
    expect(fake.calls.count).toBe(errors.length);
    expect(JSON.stringify(fake.calls.requests)).not.toContain(KEY);
  });
});

describe('ipQualityScore configuration', () => {
  it('names every wrong option without quoting the key', () => {
    let error: unknown;
    try {
      ipQualityScore({ key: `${KEY}/../x`, strictness: 7 as 0, ttlMs: Number.NaN, baseUrl: 'https://www.ipqualityscore.com' });
    } catch (caught) {
      error = caught;
    }
    const issues = isConfigurationError(error) ? error.issues.join('\n') : '';
    for (const key of ['key', 'strictness', 'ttlMs']) expect(issues).toContain(`ipQualityScore.${key}`);
    expect(issues).not.toContain(KEY);
    expect(() => ipQualityScore({ key: '' })).toThrow(/ipQualityScore\.key/);
    expect(() => ipQualityScore({ key: KEY, baseUrl: 'http://www.ipqualityscore.com' })).toThrow(/ipQualityScore\.baseUrl/);
  });

  it('describes itself with documented defaults and free-tier limits', () => {
    const ipqs = ipQualityScore({ key: KEY });
    expect([ipqs.name, ipqs.facets, ipqs.version]).toEqual(['ipqualityscore', ['ip'], '1']);
    expect(ipqs.defaults).toEqual({ ...IP_QUALITY_SCORE_DEFAULTS, limits: IP_QUALITY_SCORE_LIMITS });
    expect(IP_QUALITY_SCORE_LIMITS).toEqual({ monthly: 5000 });
  });
});

providerContract<IpQualityScoreFake>('ipqualityscore', {
  setup: () => startFakeIpQualityScore({ key: KEY }),
  teardown: (contractFake) => contractFake.close(),
  reset: (contractFake) => contractFake.reset(),
  create: (contractFake) => ipQualityScore({ key: KEY, baseUrl: contractFake.url }),
  listed: { subject: { ip: IP }, arrange: (contractFake) => contractFake.score(IP, { fraud_score: 90, vpn: true }) },
  clean: { subject: { ip: '198.51.100.1' } },
  hang: httpHang((contractFake) => contractFake),
  faults: [
    ...httpFaults((contractFake: IpQualityScoreFake) => contractFake),
    { name: 'no credits left', inject: (contractFake) => contractFake.setCredits(0), kind: 'quota-exceeded' },
    { name: 'a refused key', inject: (contractFake) => contractFake.faults.inject({ kind: 'api-error', message: 'Invalid or unauthorized key.' }), kind: 'auth' },
  ],
  secrets: [KEY],
});
