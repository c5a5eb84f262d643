import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeIpApi } from '../../testing/src/ipapi-fake.js';
import type { IpApiFake, IpApiFault } from '../../testing/src/ipapi-fake.js';
import { IP_API_DEFAULTS, IP_API_LIMITS, ipApi } from '../src/ipapi/provider.js';
import type { IpApiOptions } from '../src/ipapi/provider.js';
import type { GeolocationScores } from '../src/geolocation-policy.js';
import { httpFaults, httpHang, providerContract } from '../../testing/src/contract-suite.js';

const IP = '203.0.113.7';
const never = (): AbortSignal => new AbortController().signal;

let fake: IpApiFake;
const provider = (options: Omit<IpApiOptions, 'baseUrl'> = {}): ReturnType<typeof ipApi> => ipApi({ baseUrl: fake.url, ...options });

async function failure(run: () => Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await run();
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  fake = await startFakeIpApi();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('ipApi answers', () => {
  it('returns the location as data and scores 0 when no rule is on', async () => {
    fake.locate(IP, { country: 'Germany', countryCode: 'DE', isp: 'Example DSL', org: 'Example', as: 'AS64500 Example', hosting: true, proxy: true });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(0);
    expect(result.reasons).toEqual([]);
    expect(result.data).toEqual({
      country: 'Germany',
      countryCode: 'DE',
      isp: 'Example DSL',
      org: 'Example',
      as: 'AS64500 Example',
      mobile: false,
      proxy: true,
      hosting: true,
    });
    const [request] = fake.calls.requests;
    expect(request?.path).toBe(`/json/${IP}`);
    expect(request?.query['fields']).toBe('status,message,country,countryCode,isp,org,as,mobile,proxy,hosting');
    // Asked for neither the address nor coordinates, the answer carries neither.
    expect(JSON.stringify(result)).not.toContain(IP);
    expect(result.data).not.toHaveProperty('lat');
  });

  it('scores denied countries, countries outside the allowed list, proxies and hosting as configured', async () => {
    fake.locate(IP, { countryCode: 'RU', country: 'Russia' });
    fake.locate('198.51.100.1', { countryCode: 'FR', country: 'France' });
    fake.locate('198.51.100.2', { countryCode: 'DE', proxy: true, hosting: true });
    const strict = provider({ denyCountries: ['ru'], allowCountries: ['DE', 'AT'], flagProxy: true, flagHosting: true });
    const denied = await strict.check({ ip: IP }, { signal: never() });
    expect(denied.score).toBe(1);
    expect(denied.reasons).toEqual(['Country RU is denied (ip-api)']);
    const outside = await strict.check({ ip: '198.51.100.1' }, { signal: never() });
    expect(outside.score).toBe(0.6);
    expect(outside.reasons).toEqual(['Country FR is outside the allowed countries (ip-api)']);
    const proxy = await strict.check({ ip: '198.51.100.2' }, { signal: never() });
    expect(proxy.score).toBe(0.5);
    expect(proxy.reasons).toEqual(['IP is a proxy, VPN or Tor exit (ip-api)', 'IP belongs to a hosting provider (ip-api)']);
    const custom = provider({ flagHosting: true, scores: { hosting: 0.9 } });
    expect((await custom.check({ ip: '198.51.100.2' }, { signal: never() })).score).toBe(0.9);
  });

  it('answers private and reserved ranges with score 0 and no data, whatever the policy', async () => {
    const strict = provider({ allowCountries: ['DE'], flagProxy: true });
    const ranges = { '192.168.1.20': 'private', '10.0.0.1': 'private', '203.0.113.99': 'reserved', '2001:db8::1': 'reserved' };
    for (const [ip, range] of Object.entries(ranges)) {
      const result = await strict.check({ ip }, { signal: never() });
      expect(result.score).toBe(0);
      expect(result.reasons).toEqual([`IP address is in a ${range} range (ip-api)`]);
      expect(result.data).toBeUndefined();
    }
  });

  it('surfaces X-Rl and X-Ttl as upstream limits, with a pause once none is left', async () => {
    fake.setWindow({ remaining: 2, ttlSeconds: 40 });
    const before = Date.now();
    const first = await provider().check({ ip: '8.8.8.8' }, { signal: never() });
    const last = await provider().check({ ip: '8.8.8.8' }, { signal: never() });
    const after = Date.now();
    expect(first.upstream?.remaining).toBe(1);
    expect(first.upstream?.retryAfterMs).toBeUndefined();
    expect(last.upstream?.remaining).toBe(0);
    expect(last.upstream?.retryAfterMs).toBe(40_000);
    expect(last.upstream?.resetAtMs).toBeGreaterThanOrEqual(before + 40_000);
    expect(last.upstream?.resetAtMs).toBeLessThanOrEqual(after + 40_000);
  });

  it('makes no call without an IP', async () => {
    expect(await provider().check({ email: 'someone@example.org' }, { signal: never() })).toEqual({ score: 0, reasons: [] });
    expect(fake.calls.count).toBe(0);
  });
});

describe('ipApi failures', () => {
  it('turns a 429 past the window into rate-limited with the X-Ttl wait', async () => {
    fake.setWindow({ remaining: 0, ttlSeconds: 25 });
    const error = await failure(() => provider().check({ ip: '8.8.8.8' }, { signal: never() }));
    expect([error.kind, error.status]).toEqual(['rate-limited', 429]);
    expect(error.retryAfterMs).toBeGreaterThan(24_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(25_000);
  });

  it('turns invalid query into invalid-input, and other fail messages into http', async () => {
    const invalid = await failure(() => provider().check({ ip: 'not-an-address' }, { signal: never() }));
    expect(invalid.kind).toBe('invalid-input');
    fake.faults.inject({ kind: 'fail', message: 'something unexpected' }, { times: 1 });
    const other = await failure(() => provider().check({ ip: '8.8.8.8' }, { signal: never() }));
    expect(other.kind).toBe('http');
  });

  it.each([
    [{ kind: 'status', status: 500 }, 'http', 500],
    [{ kind: 'rate-limit', retryAfter: 30 }, 'rate-limited', 429],
    [{ kind: 'malformed-json' }, 'malformed', undefined],
    [{ kind: 'html' }, 'malformed', 200],
    [{ kind: 'truncated' }, 'network', undefined],
    [{ kind: 'reset' }, 'network', undefined],
  ] as [IpApiFault, string, number | undefined][])('classifies %o as %s', async (fault, kind, status) => {
    fake.faults.inject(fault);
    const error = await failure(() => provider().check({ ip: '8.8.8.8' }, { signal: never() }));
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    if (fault.kind === 'rate-limit') expect(error.retryAfterMs).toBe(30_000);
  });

  it('stops a hanging answer at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = provider().check({ ip: '8.8.8.8' }, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never puts the address or the URL in an error message', async () => {
    const faults: IpApiFault[] = [{ kind: 'fail', message: `bad ${IP}` }, { kind: 'malformed-json' }, { kind: 'status', status: 502 }, { kind: 'reset' }];
    for (const fault of faults) {
      fake.faults.inject(fault, { times: 1 });
      const error = await failure(() => provider().check({ ip: IP }, { signal: never() }));
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
      for (const text of [IP, fake.url, '/json', 'fields']) expect(exposed).not.toContain(text);
    }
  });
});

describe('ipApi with a pro key', () => {
  const KEY = 'ipapi-pro-secret-93b1';
  let pro: IpApiFake;

  beforeAll(async () => {
    pro = await startFakeIpApi({ key: KEY });
  });
  afterAll(async () => {
    await pro.close();
  });
  afterEach(() => pro.reset());

  it('sends the key as the key parameter, which the fake never records', async () => {
    pro.locate('198.51.100.5', { countryCode: 'NL' });
    const result = await ipApi({ key: KEY, baseUrl: pro.url }).check({ ip: '198.51.100.5' }, { signal: never() });
    expect(result.data).toMatchObject({ countryCode: 'NL' });
    expect(result.upstream).toBeUndefined();
    expect(pro.calls.requests[0]?.query['key']).toBe('[redacted]');
    expect(JSON.stringify(pro.calls.requests)).not.toContain(KEY);
  });

  it('turns a refused key into auth without exposing it', async () => {
    const error = await failure(() => ipApi({ key: `${KEY}-old`, baseUrl: pro.url }).check({ ip: '8.8.8.8' }, { signal: never() }));
    expect([error.kind, error.status]).toEqual(['auth', 403]);
    expect(`${error.message} ${JSON.stringify(error)} ${error.stack ?? ''}`).not.toContain(KEY);
    expect(JSON.stringify(pro.calls.requests)).not.toContain(KEY);
  });
});

describe('ipApi configuration', () => {
  it('takes the free plain-HTTP endpoint only with acceptPlainHttp, and a key only over https', () => {
    expect(() => ipApi({})).toThrow(/ipApi\.acceptPlainHttp/);
    expect(() => ipApi({ acceptPlainHttp: true })).not.toThrow();
    expect(() => ipApi({ key: 'k' })).not.toThrow();
    expect(() => ipApi({ key: 'k', baseUrl: 'http://ip-api.com', acceptPlainHttp: true })).toThrow(/never sent over plain http/);
    expect(() => ipApi({ baseUrl: 'https://geo.example.org' })).not.toThrow();
    expect(() => ipApi({ baseUrl: 'http://127.0.0.1:9' })).not.toThrow();
  });

  it('names every wrong option', () => {
    let error: unknown;
    try {
      ipApi({
        acceptPlainHttp: true,
        weight: 3,
        ttlMs: -5,
        denyCountries: ['Germany'],
        allowCountries: [],
        flagProxy: 'yes' as unknown as boolean,
        scores: { proxy: 2, typo: 1 } as unknown as Partial<GeolocationScores>,
      });
    } catch (caught) {
      error = caught;
    }
    expect(isConfigurationError(error)).toBe(true);
    const issues = isConfigurationError(error) ? error.issues.join('\n') : '';
    for (const key of ['weight', 'ttlMs', 'denyCountries[0]', 'allowCountries', 'flagProxy', 'scores.proxy', 'scores.typo']) {
      expect(issues).toContain(`ipApi.${key}`);
    }
  });

  it('refuses a country in both lists', () => {
    expect(() => ipApi({ acceptPlainHttp: true, denyCountries: ['DE'], allowCountries: ['de', 'AT'] })).toThrow(/ipApi\.allowCountries: de also in denyCountries/);
  });

  it('describes itself with documented defaults and free-tier limits', () => {
    const geo = ipApi({ acceptPlainHttp: true });
    expect(geo.name).toBe('ip-api');
    expect(geo.facets).toEqual(['ip']);
    expect(geo.defaults).toEqual({ ...IP_API_DEFAULTS, limits: IP_API_LIMITS });
    expect(IP_API_LIMITS).toEqual({ perMinute: 45 });
  });
});

providerContract<IpApiFake>('ip-api', {
  setup: () => startFakeIpApi(),
  teardown: (contractFake) => contractFake.close(),
  reset: (contractFake) => {
    contractFake.reset();
    contractFake.locate('198.51.100.1', { countryCode: 'DE' });
  },
  create: (contractFake) => ipApi({ baseUrl: contractFake.url, denyCountries: ['RU'] }),
  listed: { subject: { ip: IP }, arrange: (contractFake) => contractFake.locate(IP, { countryCode: 'RU' }) },
  clean: { subject: { ip: '198.51.100.1' } },
  hang: httpHang((contractFake) => contractFake),
  faults: [
    ...httpFaults((contractFake: IpApiFake) => contractFake),
    { name: 'a 429 past the X-Rl window', inject: (contractFake) => contractFake.setWindow({ remaining: 0 }), kind: 'rate-limited' },
    { name: 'invalid query', inject: (contractFake) => contractFake.faults.inject({ kind: 'fail', message: 'invalid query' }), kind: 'invalid-input' },
  ],
});
