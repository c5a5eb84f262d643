import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IP_API_FAKE_DEFAULT_LOCATION, startFakeIpApi } from '../src/ipapi-fake.js';
import type { IpApiFake } from '../src/ipapi-fake.js';

let fake: IpApiFake;

async function ask(path: string, base = fake.url) {
  const response = await fetch(`${base}${path}`);
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, body: type.includes('json') ? ((await response.json()) as unknown) : await response.text() };
}

beforeAll(async () => {
  fake = await startFakeIpApi({ requestsPerWindow: 3, ttlSeconds: 50 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('startFakeIpApi', () => {
  it('answers only the requested fields, status always included', async () => {
    fake.locate('203.0.113.7', { country: 'Germany', countryCode: 'DE', hosting: true });
    const { status, body } = await ask('/json/203.0.113.7?fields=country,countryCode,hosting,proxy');
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'success', country: 'Germany', countryCode: 'DE', hosting: true, proxy: false });
  });

  it('answers the default field set, echoing the query, when no fields are named', async () => {
    const { body } = await ask('/json/8.8.8.8');
    expect(body).toMatchObject({ status: 'success', countryCode: IP_API_FAKE_DEFAULT_LOCATION.countryCode, query: '8.8.8.8', lat: 39.03 });
    expect(body).not.toHaveProperty('proxy');
  });

  it('answers fail statuses for private, reserved and invalid addresses', async () => {
    fake.setWindow({ remaining: 10 });
    expect((await ask('/json/192.168.0.1?fields=status,message')).body).toEqual({ status: 'fail', message: 'private range' });
    expect((await ask('/json/203.0.113.99?fields=status,message')).body).toEqual({ status: 'fail', message: 'reserved range' });
    expect((await ask('/json/fe80::1?fields=status,message')).body).toEqual({ status: 'fail', message: 'reserved range' });
    expect((await ask('/json/not-an-ip?fields=status,message,query')).body).toEqual({ status: 'fail', message: 'invalid query', query: 'not-an-ip' });
  });

  it('counts the window down in X-Rl, with X-Ttl, and answers 429 once it is used up', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push((await ask('/json/8.8.8.8')).headers.get('x-rl') ?? '');
    expect(seen).toEqual(['2', '1', '0']);
    const limited = await ask('/json/8.8.8.8');
    expect(limited.status).toBe(429);
    expect([limited.headers.get('x-rl'), limited.headers.get('x-ttl')]).toEqual(['0', '50']);
    fake.setWindow({ remaining: 1, ttlSeconds: 10 });
    expect((await ask('/json/8.8.8.8')).headers.get('x-ttl')).toBe('10');
  });

  it('answers an injected fail message', async () => {
    fake.faults.inject({ kind: 'fail', message: 'invalid query' }, { times: 1 });
    expect((await ask('/json/8.8.8.8?fields=status,message')).body).toEqual({ status: 'fail', message: 'invalid query' });
  });

  it('as the pro endpoint, requires the key, never records it, and sends no rate headers', async () => {
    const pro = await startFakeIpApi({ key: 'pro-secret' });
    try {
      expect((await ask('/json/8.8.8.8?key=wrong', pro.url)).status).toBe(403);
      const ok = await ask('/json/8.8.8.8?key=pro-secret&fields=countryCode', pro.url);
      expect(ok.body).toEqual({ status: 'success', countryCode: 'US' });
      expect(ok.headers.get('x-rl')).toBeNull();
      expect(pro.calls.requests.map((request) => request.query['key'])).toEqual(['[redacted]', '[redacted]']);
    } finally {
      await pro.close();
    }
  });
});
