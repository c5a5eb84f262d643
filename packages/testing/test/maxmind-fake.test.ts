import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeMaxmind } from '../src/maxmind-fake.js';
import type { MaxmindFake } from '../src/maxmind-fake.js';

let fake: MaxmindFake;

async function lookup(path: string, credentials: string | null = `${fake.accountId}:${fake.licenseKey}`) {
  const headers: Record<string, string> = credentials === null ? {} : { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
  const response = await fetch(`${fake.url}/geoip/v2.1/${path}`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  fake = await startFakeMaxmind({ queriesRemaining: 2 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('startFakeMaxmind', () => {
  it('answers each service with its content type and fields, the most specific network winning', async () => {
    fake.locate('203.0.113.0/24', { country: 'DE', countryName: 'Germany', continent: 'EU', city: 'Berlin', traits: { is_anonymous_vpn: true } });
    fake.locate('203.0.113.128/25', { country: 'FR' });
    const country = await lookup('country/203.0.113.7');
    expect(country.type).toBe('application/vnd.maxmind.com-country+json; charset=UTF-8; version=2.1');
    expect(country.body).toEqual({
      continent: { code: 'EU' },
      country: { iso_code: 'DE', names: { en: 'Germany' } },
      registered_country: { iso_code: 'DE', names: { en: 'Germany' } },
      traits: { ip_address: '203.0.113.7', network: '203.0.113.0/24' },
      maxmind: { queries_remaining: 1 },
    });
    const insights = await lookup('insights/203.0.113.7');
    expect(insights.body).toMatchObject({ city: { names: { en: 'Berlin' } }, traits: { is_anonymous_vpn: true }, maxmind: { queries_remaining: 0 } });
    fake.setQueriesRemaining(5);
    expect((await lookup('country/203.0.113.200')).body).toMatchObject({ country: { iso_code: 'FR' }, traits: { network: '203.0.113.128/25' } });
  });

  it('answers the documented error codes with their statuses and the error content type', async () => {
    const cases: [string, string | null, number, string][] = [
      ['country/8.8.8.8', null, 401, 'ACCOUNT_ID_REQUIRED'],
      ['country/8.8.8.8', `${fake.accountId}:`, 401, 'LICENSE_KEY_REQUIRED'],
      ['country/8.8.8.8', `1:${fake.licenseKey}`, 401, 'ACCOUNT_ID_UNKNOWN'],
      ['country/8.8.8.8', `${fake.accountId}:wrong`, 401, 'AUTHORIZATION_INVALID'],
      ['country/not-an-ip', `${fake.accountId}:${fake.licenseKey}`, 400, 'IP_ADDRESS_INVALID'],
      ['country/10.0.0.1', `${fake.accountId}:${fake.licenseKey}`, 400, 'IP_ADDRESS_RESERVED'],
      ['country/8.8.8.8', `${fake.accountId}:${fake.licenseKey}`, 404, 'IP_ADDRESS_NOT_FOUND'],
      ['continent/8.8.8.8', `${fake.accountId}:${fake.licenseKey}`, 404, 'PATH_NOT_FOUND'],
    ];
    for (const [path, credentials, status, code] of cases) {
      const answer = await lookup(path, credentials);
      expect([answer.status, answer.body['code']], path).toEqual([status, code]);
      expect(answer.type).toBe('application/vnd.maxmind.com-error+json; charset=UTF-8; version=2.0');
      expect(typeof answer.body['error']).toBe('string');
    }
  });

  it('charges only answered lookups and answers 402 once the balance is gone', async () => {
    fake.locate('198.51.100.1', { country: 'NL' });
    await lookup('country/8.8.8.8');
    expect((await lookup('country/198.51.100.1')).body).toMatchObject({ maxmind: { queries_remaining: 1 } });
    await lookup('country/198.51.100.1');
    expect(await lookup('country/198.51.100.1')).toMatchObject({ status: 402, body: { code: 'INSUFFICIENT_FUNDS' } });
  });

  it('answers an injected code with the status that code has, and records credentials redacted', async () => {
    fake.faults.inject({ kind: 'api-error', code: 'OUT_OF_QUERIES' }, { times: 1 });
    expect(await lookup('city/8.8.8.8')).toMatchObject({ status: 402, body: { code: 'OUT_OF_QUERIES' } });
    expect(fake.calls.requests[0]?.headers['authorization']).toBe('[redacted]');
  });

  it('as GeoLite, omits the balance and refuses Insights', async () => {
    const geolite = await startFakeMaxmind({ edition: 'geolite' });
    try {
      geolite.locate('198.51.100.0/24', { country: 'NL' });
      const auth = { authorization: `Basic ${Buffer.from(`${geolite.accountId}:${geolite.licenseKey}`).toString('base64')}` };
      const country = (await (await fetch(`${geolite.url}/geoip/v2.1/country/198.51.100.1`, { headers: auth })).json()) as Record<string, unknown>;
      expect(country).not.toHaveProperty('maxmind');
      const insights = await fetch(`${geolite.url}/geoip/v2.1/insights/198.51.100.1`, { headers: auth });
      expect([insights.status, ((await insights.json()) as Record<string, unknown>)['code']]).toEqual([403, 'PERMISSION_REQUIRED']);
    } finally {
      await geolite.close();
    }
  });
});
