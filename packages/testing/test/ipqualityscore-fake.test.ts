import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeIpQualityScore } from '../src/ipqualityscore-fake.js';
import type { IpQualityScoreFake } from '../src/ipqualityscore-fake.js';

const KEY = 'fake-ipqs-secret';
let fake: IpQualityScoreFake;

async function ask(key: string, ip: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${fake.url}/api/json/ip/${key}/${encodeURIComponent(ip)}?strictness=1`);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  fake = await startFakeIpQualityScore({ key: KEY, credits: 2 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('startFakeIpQualityScore', () => {
  it('answers a scored address in the service format, host name included', async () => {
    fake.score('203.0.113.7', { fraud_score: 91, proxy: true, tor: true, bot_status: true });
    const body = await ask(KEY, '203.0.113.7');
    expect(body).toMatchObject({
      success: true,
      fraud_score: 91,
      proxy: true,
      vpn: false,
      tor: true,
      bot_status: true,
      recent_abuse: false,
      host: 'host-203-0-113-7.example.net',
      ISP: 'Example ISP',
    });
    expect((await ask(KEY, '2001:db8::1'))['fraud_score']).toBe(0);
  });

  it('answers success false for a wrong key, a bad address and an empty balance', async () => {
    expect(await ask('other-key', '8.8.8.8')).toMatchObject({ success: false, message: expect.stringContaining('unauthorized key') });
    expect(await ask(KEY, 'nope')).toMatchObject({ success: false, message: expect.stringContaining('"nope" is invalid') });
    await ask(KEY, '8.8.8.8');
    await ask(KEY, '8.8.8.8');
    expect(await ask(KEY, '8.8.8.8')).toMatchObject({ success: false, message: expect.stringContaining('insufficient credits') });
  });

  it('answers an injected api-error message', async () => {
    fake.faults.inject({ kind: 'api-error', message: 'Temporary issue.' }, { times: 1 });
    expect(await ask(KEY, '8.8.8.8')).toEqual({ success: false, message: 'Temporary issue.', request_id: 'fake-request' });
  });

  it('records paths with the key segment redacted, stable across reads and in waitFor', async () => {
    const pending = fake.calls.waitFor(1);
    await ask(KEY, '8.8.8.8');
    const waited = await pending;
    expect(waited.path).toBe('/api/json/ip/[redacted]/8.8.8.8');
    expect(fake.calls.requests[0]).toBe(waited);
    expect(fake.calls.requests[0]?.query).toEqual({ strictness: '1' });
    expect(JSON.stringify(fake.calls.requests)).not.toContain(KEY);
    await expect(waited.finished).resolves.toBe('answered');
  });
});
