import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeMaxmind } from '../../testing/src/maxmind-fake.js';
import type { MaxmindFake, MaxmindFault } from '../../testing/src/maxmind-fake.js';
import { MAXMIND_DEFAULTS, MAXMIND_GEOLITE_LIMITS, maxmindWebService } from '../src/maxmind/web-service.js';
import type { MaxmindWebServiceOptions } from '../src/maxmind/web-service.js';
import { httpFaults, httpHang, providerContract } from '../../testing/src/contract-suite.js';

const ACCOUNT = '424242';
const LICENSE_KEY = 'mm-license-secret-5d1e88';
const IP = '203.0.113.7';
const never = (): AbortSignal => new AbortController().signal;

let fake: MaxmindFake;
type Extra = Omit<MaxmindWebServiceOptions, 'accountId' | 'licenseKey' | 'baseUrl'> & Partial<MaxmindWebServiceOptions>;
const provider = (options: Extra = {}): ReturnType<typeof maxmindWebService> =>
  maxmindWebService({ accountId: ACCOUNT, licenseKey: LICENSE_KEY, baseUrl: fake.url, ...options });

async function failure(run: () => Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await run();
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
const checkFailure = (options: Extra = {}, ip = IP): Promise<ProviderResponseError> =>
  failure(() => provider(options).check({ ip }, { signal: never() }));

beforeAll(async () => {
  fake = await startFakeMaxmind({ accountId: ACCOUNT, licenseKey: LICENSE_KEY, queriesRemaining: 500 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('maxmindWebService answers', () => {
  it('returns the country as data, the query balance as upstream, and scores 0 without rules', async () => {
    fake.locate('203.0.113.0/24', { country: 'DE', countryName: 'Germany', continent: 'EU', city: 'Berlin' });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result).toEqual({
      score: 0,
      reasons: [],
      data: { countryCode: 'DE', country: 'Germany', continentCode: 'EU' },
      upstream: { remaining: 499 },
    });
    const [request] = fake.calls.requests;
    expect(request?.path).toBe(`/geoip/v2.1/country/${IP}`);
    expect(request?.headers['authorization']).toBe('[redacted]');
    expect(JSON.stringify(result)).not.toContain(IP);
  });

  it('asks the configured service: city adds the city, insights the anonymizer traits', async () => {
    fake.locate('203.0.113.0/24', {
      country: 'NL',
      city: 'Amsterdam',
      traits: { is_anonymous: true, is_anonymous_vpn: true, autonomous_system_number: 64500, isp: 'Example VPN' },
    });
    const city = await provider({ service: 'city' }).check({ ip: IP }, { signal: never() });
    expect(city.data).toEqual({ countryCode: 'NL', country: 'NL', city: 'Amsterdam' });
    const insights = await provider({ service: 'insights', flagProxy: true }).check({ ip: IP }, { signal: never() });
    expect(fake.calls.requests[1]?.path).toBe(`/geoip/v2.1/insights/${IP}`);
    expect(insights.data).toMatchObject({ isAnonymous: true, isAnonymousVpn: true, asn: 64500, isp: 'Example VPN' });
    expect(insights.score).toBe(0.5);
    expect(insights.reasons).toEqual(['IP is a proxy, VPN or Tor exit (maxmind)']);
  });

  it('counts a hosting provider as hosting, not as a proxy, though MaxMind marks it anonymous', async () => {
    fake.locate(IP, { country: 'US', traits: { is_anonymous: true, is_hosting_provider: true } });
    const result = await provider({ service: 'insights', flagProxy: true, flagHosting: true }).check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(0.4);
    expect(result.reasons).toEqual(['IP belongs to a hosting provider (maxmind)']);
  });

  it('applies the country lists', async () => {
    fake.locate('198.51.100.0/24', { country: 'KP' });
    fake.locate('192.0.2.0/24', { country: 'FR' });
    const strict = provider({ denyCountries: ['KP'], allowCountries: ['DE', 'FR'] });
    expect((await strict.check({ ip: '198.51.100.1' }, { signal: never() })).score).toBe(1);
    expect((await strict.check({ ip: '192.0.2.1' }, { signal: never() })).score).toBe(0);
  });

  it('answers reserved and unknown addresses with score 0, a reason and no data', async () => {
    const strict = provider({ allowCountries: ['DE'] });
    expect(await strict.check({ ip: '10.1.2.3' }, { signal: never() })).toEqual({
      score: 0,
      reasons: ['IP address is private or reserved (MaxMind)'],
    });
    expect(await strict.check({ ip: '8.8.8.8' }, { signal: never() })).toEqual({
      score: 0,
      reasons: ['IP address is not in the database (MaxMind)'],
    });
  });

  it('has no balance to report from GeoLite', async () => {
    const geolite = await startFakeMaxmind({ accountId: ACCOUNT, licenseKey: LICENSE_KEY, edition: 'geolite' });
    try {
      geolite.locate(IP, { country: 'AT' });
      const result = await maxmindWebService({ accountId: ACCOUNT, licenseKey: LICENSE_KEY, baseUrl: geolite.url, edition: 'geolite' }).check(
        { ip: IP },
        { signal: never() },
      );
      expect(result.data).toMatchObject({ countryCode: 'AT' });
      expect(result.upstream).toBeUndefined();
    } finally {
      await geolite.close();
    }
  });
});

describe('maxmindWebService failures', () => {
  it('maps credential error codes to auth', async () => {
    const wrongKey = await checkFailure({ licenseKey: 'wrong-key' });
    expect([wrongKey.kind, wrongKey.status, wrongKey.message]).toEqual(['auth', 401, 'maxmind: credentials refused (AUTHORIZATION_INVALID, HTTP 401)']);
    const wrongAccount = await checkFailure({ accountId: 1 });
    expect(wrongAccount.message).toContain('ACCOUNT_ID_UNKNOWN');
    fake.faults.inject({ kind: 'api-error', code: 'PERMISSION_REQUIRED' }, { times: 1 });
    expect((await checkFailure()).kind).toBe('auth');
  });

  it('maps an exhausted balance to quota-exceeded', async () => {
    fake.locate(IP, { country: 'DE' });
    fake.setQueriesRemaining(0);
    const error = await checkFailure();
    expect([error.kind, error.status]).toEqual(['quota-exceeded', 402]);
    fake.faults.inject({ kind: 'api-error', code: 'OUT_OF_QUERIES' }, { times: 1 });
    expect((await checkFailure()).kind).toBe('quota-exceeded');
  });

  it('maps an invalid address to invalid-input without repeating it', async () => {
    const error = await checkFailure({}, 'not-an-address');
    expect([error.kind, error.status]).toEqual(['invalid-input', 400]);
    expect(error.message).not.toContain('not-an-address');
  });

  it.each([
    [{ kind: 'api-error', code: 'SOMETHING_NEW', status: 500 }, 'http', 500],
    [{ kind: 'status', status: 503 }, 'http', 503],
    [{ kind: 'rate-limit', retryAfter: 30 }, 'rate-limited', 429],
    [{ kind: 'malformed-json' }, 'malformed', undefined],
    [{ kind: 'html' }, 'malformed', 200],
    [{ kind: 'truncated' }, 'network', undefined],
    [{ kind: 'reset' }, 'network', undefined],
  ] as [MaxmindFault, string, number | undefined][])('classifies %o as %s', async (fault, kind, status) => {
    fake.locate(IP, { country: 'DE' });
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
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never exposes the license key, the credentials header or the address', async () => {
    fake.locate(IP, { country: 'DE' });
    const basic = Buffer.from(`${ACCOUNT}:${LICENSE_KEY}`).toString('base64');
    const errors = [await checkFailure({ licenseKey: `${LICENSE_KEY}-old` })];
    for (const fault of [{ kind: 'api-error', code: 'SOMETHING_NEW', status: 500 }, { kind: 'malformed-json' }, { kind: 'reset' }] as MaxmindFault[]) {
      fake.faults.inject(fault, { times: 1 });
      errors.push(await checkFailure());
    }
    fake.setQueriesRemaining(0);
    errors.push(await checkFailure());
    for (const error of errors) {
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)} ${error.stack ?? ''}`;
      for (const text of [LICENSE_KEY, basic, IP, fake.url]) expect(exposed).not.toContain(text);
    }
    const recorded = JSON.stringify(fake.calls.requests);
    expect(recorded).not.toContain(LICENSE_KEY);
    expect(recorded).not.toContain(basic);
  });
});

describe('maxmindWebService configuration', () => {
  it('requires credentials, a known service and https', () => {
    expect(() => maxmindWebService({ accountId: ACCOUNT, licenseKey: LICENSE_KEY })).not.toThrow();
    expect(() => maxmindWebService({ accountId: ACCOUNT, licenseKey: LICENSE_KEY, baseUrl: 'http://geoip.maxmind.com' })).toThrow(/maxmind\.baseUrl/);
    let error: unknown;
    try {
      maxmindWebService({
        accountId: 'abc',
        licenseKey: '',
        service: 'continent' as MaxmindWebServiceOptions['service'] & string,
        weight: 9,
        denyCountries: ['XXX'],
      });
    } catch (caught) {
      error = caught;
    }
    const issues = isConfigurationError(error) ? error.issues.join('\n') : '';
    for (const key of ['accountId', 'licenseKey', 'service', 'weight', 'denyCountries[0]']) expect(issues).toContain(`maxmind.${key}`);
  });

  it('refuses combinations that could never work', () => {
    expect(() => maxmindWebService({ accountId: 1, licenseKey: 'k', edition: 'geolite', service: 'insights' })).toThrow(/GeoLite offers country and city only/);
    expect(() => maxmindWebService({ accountId: 1, licenseKey: 'k', flagProxy: true })).toThrow(/need 'insights'/);
    expect(() => maxmindWebService({ accountId: 1, licenseKey: 'k', service: 'insights', flagHosting: true })).not.toThrow();
  });

  it('describes itself with documented defaults and the GeoLite limit', () => {
    const geo = maxmindWebService({ accountId: 1, licenseKey: 'k' });
    expect(geo.name).toBe('maxmind');
    expect(geo.facets).toEqual(['ip']);
    expect(geo.defaults).toEqual(MAXMIND_DEFAULTS);
    expect(MAXMIND_GEOLITE_LIMITS).toEqual({ daily: 1000 });
  });
});

providerContract<MaxmindFake>('maxmind', {
  setup: () => startFakeMaxmind({ accountId: ACCOUNT, licenseKey: LICENSE_KEY }),
  teardown: (contractFake) => contractFake.close(),
  reset: (contractFake) => {
    contractFake.reset();
    contractFake.locate('198.51.100.1', { country: 'DE' });
  },
  create: (contractFake) => maxmindWebService({ accountId: ACCOUNT, licenseKey: LICENSE_KEY, baseUrl: contractFake.url, service: 'insights', flagProxy: true }),
  listed: { subject: { ip: IP }, arrange: (contractFake) => contractFake.locate(IP, { country: 'DE', traits: { is_anonymous_vpn: true } }) },
  clean: { subject: { ip: '198.51.100.1' } },
  hang: httpHang((contractFake) => contractFake),
  faults: [
    ...httpFaults((contractFake: MaxmindFake) => contractFake),
    { name: 'AUTHORIZATION_INVALID', inject: (contractFake) => contractFake.faults.inject({ kind: 'api-error', code: 'AUTHORIZATION_INVALID' }), kind: 'auth' },
    { name: 'an empty balance', inject: (contractFake) => contractFake.setQueriesRemaining(0), kind: 'quota-exceeded' },
  ],
  secrets: [LICENSE_KEY, Buffer.from(`${ACCOUNT}:${LICENSE_KEY}`).toString('base64')],
});
