import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAbuseIpdb } from '../src/abuseipdb-fake.js';
import type { AbuseIpdbFake } from '../src/abuseipdb-fake.js';

const KEY = 'fake-test-key';
const NOW = Date.UTC(2024, 5, 1, 23, 0, 0);
let clock = NOW;
let fake: AbuseIpdbFake;

async function check(query: string, headers: Record<string, string> = { key: KEY, accept: 'application/json' }) {
  const response = await fetch(`${fake.url}/api/v2/check?${query}`, { headers });
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, body: type.includes('json') ? ((await response.json()) as unknown) : await response.text() };
}

async function report(form: Record<string, string>) {
  const response = await fetch(`${fake.url}/api/v2/report`, {
    method: 'POST',
    headers: { key: KEY, accept: 'application/json' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

beforeAll(async () => {
  fake = await startFakeAbuseIpdb({ key: KEY, dailyLimit: 5, now: () => clock });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  clock = NOW;
  fake.reset();
});

describe('startFakeAbuseIpdb check', () => {
  it('answers a listed address in the v2 format, with the rate-limit headers', async () => {
    fake.list('203.0.113.7', { abuseConfidenceScore: 87, totalReports: 12, numDistinctUsers: 5, isTor: true, hostnames: ['h.example.net'] });
    const { status, headers, body } = await check('ipAddress=203.0.113.7&maxAgeInDays=90');
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        ipAddress: '203.0.113.7',
        isPublic: false,
        ipVersion: 4,
        isWhitelisted: false,
        abuseConfidenceScore: 87,
        countryCode: 'US',
        usageType: 'Fixed Line ISP',
        isp: 'Example ISP',
        domain: 'example.net',
        hostnames: ['h.example.net'],
        isTor: true,
        totalReports: 12,
        numDistinctUsers: 5,
        lastReportedAt: '2024-01-01T00:00:00+00:00',
      },
    });
    expect(headers.get('x-ratelimit-limit')).toBe('5');
    expect(headers.get('x-ratelimit-remaining')).toBe('4');
    expect(headers.get('x-ratelimit-reset')).toBe(String(Date.UTC(2024, 5, 2) / 1000));
  });

  it('answers an unreported public address with score 0 and no last report', async () => {
    const { body } = await check('ipAddress=8.8.8.8');
    expect(body).toMatchObject({ data: { isPublic: true, abuseConfidenceScore: 0, totalReports: 0, lastReportedAt: null } });
  });

  it('refuses a missing key, a wrong key, a bad address and a bad maxAgeInDays in its error format', async () => {
    const missing = await check('ipAddress=8.8.8.8', { accept: 'application/json' });
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ errors: [{ status: 401, detail: expect.stringContaining('Authentication failed') }] });
    expect((await check('ipAddress=8.8.8.8', { key: 'other', accept: 'application/json' })).status).toBe(401);
    const badIp = await check('ipAddress=999.1.1.1');
    expect(badIp.status).toBe(422);
    expect(badIp.body).toMatchObject({ errors: [{ status: 422, source: { parameter: 'ipAddress' } }] });
    expect((await check('ipAddress=8.8.8.8&maxAgeInDays=400')).body).toMatchObject({ errors: [{ source: { parameter: 'maxAgeInDays' } }] });
  });

  it('answers HTML without Accept: application/json, as the real API does', async () => {
    const { status, body } = await check('ipAddress=8.8.8.8', { key: KEY });
    expect(status).toBe(200);
    expect(String(body)).toContain('<html>');
  });

  it('counts down the daily limit and then answers 429 with Retry-After until midnight UTC', async () => {
    for (let i = 0; i < 5; i++) expect((await check('ipAddress=8.8.8.8')).status).toBe(200);
    const limited = await check('ipAddress=8.8.8.8');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe(String(60 * 60));
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.body).toMatchObject({ errors: [{ status: 429, detail: expect.stringContaining('Daily rate limit of 5') }] });
  });

  it('answers an injected api-error in the service format after checking the key', async () => {
    fake.faults.inject({ kind: 'api-error', status: 503, detail: 'maintenance' });
    expect(await check('ipAddress=8.8.8.8')).toMatchObject({ status: 503, body: { errors: [{ status: 503, detail: 'maintenance' }] } });
  });

  it('records the key header as redacted', async () => {
    await check('ipAddress=8.8.8.8');
    expect(fake.calls.requests[0]?.headers['key']).toBe('[redacted]');
  });
});

describe('startFakeAbuseIpdb report', () => {
  it('accepts a report, and refuses the same address again within 15 minutes with a 429 quoting it', async () => {
    const first = await report({ ip: '2001:db8::1', categories: '10,12', comment: 'spam' });
    expect(first).toMatchObject({ status: 200, body: { data: { ipAddress: '2001:db8::1' } } });
    clock += 14 * 60 * 1000;
    const again = await report({ ip: '2001:DB8:0::1', categories: '10' });
    expect(again.status).toBe(429);
    expect(again.headers.get('retry-after')).toBe('60');
    expect(again.body).toMatchObject({ errors: [{ detail: 'You can only report the same IP address (`2001:db8::1`) once in 15 minutes.' }] });
    clock += 60 * 1000;
    expect((await report({ ip: '2001:db8::1', categories: '10' })).status).toBe(200);
    expect(fake.reports).toEqual([
      { ip: '2001:db8::1', categories: [10, 12], comment: 'spam', atMs: NOW },
      { ip: '2001:db8::1', categories: [10], comment: undefined, atMs: NOW + 15 * 60 * 1000 },
    ]);
  });

  it('refuses unknown categories and over-long comments', async () => {
    expect((await report({ ip: '8.8.8.8', categories: '99' })).status).toBe(422);
    expect((await report({ ip: '8.8.8.8', categories: '10', comment: 'x'.repeat(1025) })).status).toBe(422);
    expect(fake.reports).toEqual([]);
  });
});
