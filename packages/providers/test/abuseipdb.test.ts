import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAbuseIpdb } from '../../testing/src/abuseipdb-fake.js';
import type { AbuseIpdbFake, AbuseIpdbFault } from '../../testing/src/abuseipdb-fake.js';
import { ABUSEIPDB_DEFAULTS, ABUSEIPDB_LIMITS, ABUSEIPDB_REPORT_COMMENT, abuseIpdb } from '../src/abuseipdb/provider.js';
import { httpFaults, httpHang, providerContract } from '../../testing/src/contract-suite.js';

const KEY = 'abuseipdb-secret-7f3c9e1d';
const IP = '203.0.113.7';
// 2024-03-10T12:00:00Z: the fake's daily window ends at midnight UTC, 12 hours later.
const START_MS = Date.UTC(2024, 2, 10, 12);
const MIDNIGHT_MS = Date.UTC(2024, 2, 11);
const never = (): AbortSignal => new AbortController().signal;

let clock = START_MS;
let fake: AbuseIpdbFake;
const provider = (): ReturnType<typeof abuseIpdb> => abuseIpdb({ key: KEY, baseUrl: fake.url });

async function failure(run: () => Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await run();
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const checkFailure = (ip = IP): Promise<ProviderResponseError> => failure(() => provider().check({ ip }, { signal: never() }));

beforeAll(async () => {
  fake = await startFakeAbuseIpdb({ key: KEY, now: () => clock });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  clock = START_MS;
  fake.reset();
});

describe('abuseIpdb check', () => {
  it('scores a reported IP by its confidence and keeps neither the address nor its hostnames', async () => {
    fake.list(IP, {
      abuseConfidenceScore: 87,
      totalReports: 12,
      numDistinctUsers: 5,
      usageType: 'Data Center/Web Hosting/Transit',
      countryCode: 'NL',
      hostnames: ['host-203-0-113-7.example.net'],
      lastReportedAt: '2024-03-09T08:00:00+00:00',
    });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBeCloseTo(0.87);
    expect(result.reasons).toEqual(['IP reported to AbuseIPDB (confidence 87%, 12 reports from 5 users)']);
    expect(result.data).toMatchObject({
      abuseConfidenceScore: 87,
      totalReports: 12,
      numDistinctUsers: 5,
      usageType: 'Data Center/Web Hosting/Transit',
      countryCode: 'NL',
      isTor: false,
      isWhitelisted: false,
      lastReportedAt: '2024-03-09T08:00:00+00:00',
    });
    const kept = JSON.stringify(result);
    expect(kept).not.toContain(IP);
    expect(kept).not.toContain('host-203-0-113-7');
    const [request] = fake.calls.requests;
    expect(request?.path).toBe('/api/v2/check');
    expect(request?.query).toEqual({ ipAddress: IP, maxAgeInDays: '90' });
    expect(request?.headers['accept']).toBe('application/json');
  });

  it('scores an address without reports 0 with no reasons', async () => {
    const result = await provider().check({ ip: '2001:db8::7' }, { signal: never() });
    expect(result.score).toBe(0);
    expect(result.reasons).toEqual([]);
    expect(result.data).toMatchObject({ abuseConfidenceScore: 0, totalReports: 0, numDistinctUsers: 0 });
    expect(result.data).not.toHaveProperty('lastReportedAt');
  });

  it('scores a whitelisted address 0 however often it was reported, and says why', async () => {
    fake.list(IP, { abuseConfidenceScore: 100, totalReports: 40, isWhitelisted: true });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(0);
    expect(result.reasons).toEqual(['IP is whitelisted on AbuseIPDB']);
  });

  it('reports a Tor exit node as a reason without raising the score', async () => {
    fake.list(IP, { abuseConfidenceScore: 0, totalReports: 0, numDistinctUsers: 0, isTor: true });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(0);
    expect(result.reasons).toEqual(['IP is a Tor exit node (AbuseIPDB)']);
    expect(result.data).toMatchObject({ isTor: true });
  });

  it('surfaces the X-RateLimit headers of ordinary answers as upstream limits', async () => {
    fake.setRemaining(3);
    const first = await provider().check({ ip: IP }, { signal: never() });
    const second = await provider().check({ ip: IP }, { signal: never() });
    expect(first.upstream).toEqual({ remaining: 2, resetAtMs: MIDNIGHT_MS });
    expect(second.upstream).toEqual({ remaining: 1, resetAtMs: MIDNIGHT_MS });
  });

  it('sends maxAgeInDays as configured, and makes no call without an IP', async () => {
    const recent = abuseIpdb({ key: KEY, baseUrl: fake.url, maxAgeInDays: 30 });
    await recent.check({ ip: IP }, { signal: never() });
    expect(fake.calls.requests[0]?.query['maxAgeInDays']).toBe('30');
    expect(await recent.check({ email: 'someone@example.org' }, { signal: never() })).toEqual({ score: 0, reasons: [] });
    expect(fake.calls.count).toBe(1);
  });
});

describe('abuseIpdb check failures', () => {
  it('turns a refused key into auth, an invalid address into invalid-input', async () => {
    const wrongKey = abuseIpdb({ key: 'not-the-key', baseUrl: fake.url });
    const auth = await failure(() => wrongKey.check({ ip: IP }, { signal: never() }));
    expect([auth.kind, auth.status]).toEqual(['auth', 401]);
    const invalid = await checkFailure('not-an-address');
    expect([invalid.kind, invalid.status]).toEqual(['invalid-input', 422]);
  });

  it('turns the daily limit into rate-limited with the wait until the reset', async () => {
    fake.setRemaining(0);
    const error = await checkFailure();
    expect([error.kind, error.status]).toEqual(['rate-limited', 429]);
    expect(error.retryAfterMs).toBe(MIDNIGHT_MS - START_MS);
  });

  it.each([
    [{ kind: 'api-error', status: 500 }, 'http', 500],
    [{ kind: 'api-error', status: 503, detail: 'maintenance' }, 'http', 503],
    [{ kind: 'api-error', status: 403, detail: 'forbidden' }, 'auth', 403],
    [{ kind: 'malformed-json' }, 'malformed', undefined],
    [{ kind: 'html' }, 'malformed', 200],
    [{ kind: 'truncated' }, 'network', undefined],
    [{ kind: 'reset' }, 'network', undefined],
    [{ kind: 'rate-limit', retryAfter: 30 }, 'rate-limited', 429],
  ] as [AbuseIpdbFault, string, number | undefined][])('classifies %o as %s', async (fault, kind, status) => {
    fake.faults.inject(fault);
    const error = await checkFailure();
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
  });

  it('stops a hanging answer at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const reason = new Error('deadline passed');
    const pending = provider().check({ ip: IP }, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never exposes the key, the address or the URL, in errors or in the recorded requests', async () => {
    const faults: AbuseIpdbFault[] = [
      { kind: 'api-error', status: 500, detail: `failure for ${IP}` },
      { kind: 'malformed-json' },
      { kind: 'html' },
      { kind: 'truncated' },
      { kind: 'reset' },
      { kind: 'rate-limit', retryAfter: 5 },
    ];
    const forbidden = [KEY, IP, fake.url, '/api/v2', 'ipAddress'];
    const errors: ProviderResponseError[] = [];
    for (const fault of faults) {
      fake.faults.inject(fault);
      errors.push(await checkFailure());
    }
    fake.faults.clear();
    errors.push(await checkFailure('not-an-address'));
    errors.push(await failure(() => abuseIpdb({ key: `${KEY}-wrong`, baseUrl: fake.url }).check({ ip: IP }, { signal: never() })));
    fake.setRemaining(0);
    errors.push(await checkFailure());
    for (const error of errors) {
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)} ${error.stack ?? ''}`;
      for (const text of forbidden) expect(exposed, `${error.message} exposes ${text}`).not.toContain(text);
      expect(error.message.startsWith('abuseipdb: ')).toBe(true);
    }
    expect(fake.calls.count).toBe(errors.length);
    for (const request of fake.calls.requests) expect(request.headers['key']).toBe('[redacted]');
    expect(JSON.stringify(fake.calls.requests)).not.toContain(KEY);
  });
});

describe('abuseIpdb report', () => {
  it('reports spam with the configured categories and a comment free of personal data', async () => {
    await provider().report({ ip: IP, email: 'spammer@example.org', content: 'buy now' }, 'spam', { signal: never() });
    expect(fake.reports).toEqual([{ ip: IP, categories: [10], comment: ABUSEIPDB_REPORT_COMMENT, atMs: START_MS }]);
    expect(fake.calls.requests[0]?.method).toBe('POST');
    expect(fake.calls.requests[0]?.path).toBe('/api/v2/report');
    expect(fake.calls.requests[0]?.headers['key']).toBe('[redacted]');

    const custom = abuseIpdb({ key: KEY, baseUrl: fake.url, reportCategories: [10, 12], reportComment: 'contact form spam' });
    await custom.report({ ip: '198.51.100.9' }, 'spam', { signal: never() });
    expect(fake.reports[1]).toMatchObject({ ip: '198.51.100.9', categories: [10, 12], comment: 'contact form spam' });
  });

  it('makes no call for ham or for a subject without an IP, and refuses unknown kinds', async () => {
    await provider().report({ ip: IP }, 'ham', { signal: never() });
    await provider().report({ email: 'someone@example.org' }, 'spam', { signal: never() });
    await expect(provider().report({ ip: IP }, 'Spam' as 'spam', { signal: never() })).rejects.toThrow(TypeError);
    expect(fake.calls.count).toBe(0);
  });

  it('treats a second report of one address within 15 minutes as done, and reports again after', async () => {
    await provider().report({ ip: IP }, 'spam', { signal: never() });
    clock += 5 * 60 * 1000;
    await expect(provider().report({ ip: IP }, 'spam', { signal: never() })).resolves.toBeUndefined();
    expect(fake.calls.count).toBe(2);
    expect(fake.reports).toHaveLength(1);
    clock += 15 * 60 * 1000;
    await provider().report({ ip: IP }, 'spam', { signal: never() });
    expect(fake.reports).toHaveLength(2);
  });

  it('classifies failures like check does, without exposing the key', async () => {
    const wrongKey = abuseIpdb({ key: 'not-the-key', baseUrl: fake.url });
    const auth = await failure(() => wrongKey.report({ ip: IP }, 'spam', { signal: never() }));
    expect(auth.kind).toBe('auth');
    fake.faults.inject({ kind: 'rate-limit', retryAfter: 60 }, { times: 1 });
    const limited = await failure(() => provider().report({ ip: IP }, 'spam', { signal: never() }));
    expect([limited.kind, limited.retryAfterMs]).toEqual(['rate-limited', 60_000]);
    fake.faults.inject({ kind: 'html' }, { times: 1 });
    const html = await failure(() => provider().report({ ip: IP }, 'spam', { signal: never() }));
    expect(html.kind).toBe('malformed');
    const invalid = await failure(() => provider().report({ ip: 'not-an-address' }, 'spam', { signal: never() }));
    expect(invalid.kind).toBe('invalid-input');
    expect(fake.reports).toHaveLength(0);
    for (const error of [auth, limited, html, invalid]) {
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(KEY);
    }
  });
});

describe('abuseIpdb configuration', () => {
  it('requires a key and https for a public base URL', () => {
    expect(() => abuseIpdb({ key: '' })).toThrow(/abuseIpdb\.key/);
    expect(() => abuseIpdb({ key: KEY, baseUrl: 'http://api.abuseipdb.com' })).toThrow(/abuseIpdb\.baseUrl/);
    expect(() => abuseIpdb({ key: KEY })).not.toThrow();
  });

  it('names every wrong option without quoting the key', () => {
    let error: unknown;
    try {
      abuseIpdb({
        key: `${KEY}\r\nx-injected: 1`,
        weight: -1,
        ttlMs: 0,
        maxBodyBytes: 1.5,
        maxAgeInDays: 400,
        reportCategories: [0, 99],
        reportComment: 'x'.repeat(2000),
      });
    } catch (caught) {
      error = caught;
    }
    expect(isConfigurationError(error)).toBe(true);
    const issues = isConfigurationError(error) ? error.issues.join('\n') : '';
    for (const key of ['key', 'weight', 'ttlMs', 'maxBodyBytes', 'maxAgeInDays', 'reportCategories', 'reportComment']) {
      expect(issues).toContain(`abuseIpdb.${key}`);
    }
    expect(issues).not.toContain(KEY);
  });

  it('describes itself with documented defaults and free-tier limits', () => {
    const provider = abuseIpdb({ key: KEY });
    expect(provider.name).toBe('abuseipdb');
    expect(provider.facets).toEqual(['ip']);
    expect(provider.version).toBe('1');
    expect(provider.defaults).toEqual({ ...ABUSEIPDB_DEFAULTS, limits: ABUSEIPDB_LIMITS });
    expect(ABUSEIPDB_LIMITS).toEqual({ daily: 1000 });
    expect(abuseIpdb({ key: KEY, weight: 1, ttlMs: 1000 }).defaults).toEqual({ weight: 1, ttlMs: 1000, limits: ABUSEIPDB_LIMITS });
  });
});

providerContract<AbuseIpdbFake>('abuseipdb', {
  setup: () => startFakeAbuseIpdb({ key: KEY }),
  teardown: (contractFake) => contractFake.close(),
  reset: (contractFake) => contractFake.reset(),
  create: (contractFake) => abuseIpdb({ key: KEY, baseUrl: contractFake.url }),
  listed: { subject: { ip: IP }, arrange: (contractFake) => contractFake.list(IP, { abuseConfidenceScore: 90 }) },
  clean: { subject: { ip: '198.51.100.1' } },
  hang: httpHang((contractFake) => contractFake),
  faults: [
    ...httpFaults((contractFake: AbuseIpdbFake) => contractFake),
    { name: 'the daily limit', inject: (contractFake) => contractFake.setRemaining(0), kind: 'rate-limited' },
    { name: 'an errors body with 401', inject: (contractFake) => contractFake.faults.inject({ kind: 'api-error', status: 401 }), kind: 'auth' },
  ],
  secrets: [KEY],
});
