import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeStopForumSpam } from '../src/index.js';
import type { StopForumSpamFake } from '../src/index.js';

let fake: StopForumSpamFake;

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

async function ask(query: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(`${fake.url}/api?${query}`);
  const text = await response.text();
  const type = response.headers.get('content-type');
  return { status: response.status, type, body: type === 'application/json' ? JSON.parse(text) : text };
}

beforeAll(async () => {
  fake = await startFakeStopForumSpam();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('startFakeStopForumSpam', () => {
  it('answers a listed IP in the service format, and an unlisted one as not appearing', async () => {
    fake.list('ip', '203.0.113.7', { confidence: 87.5, frequency: 12, lastseen: '2024-05-01 10:00:00' });
    expect((await ask('ip=203.0.113.7&json')).body).toEqual({
      success: 1,
      ip: { appears: 1, frequency: 12, lastseen: '2024-05-01 10:00:00', confidence: 87.5 },
    });
    expect((await ask('ip=198.51.100.1&json')).body).toEqual({ success: 1, ip: { appears: 0, frequency: 0 } });
  });

  it('matches IPv6 listings in any spelling', async () => {
    fake.list('ip', '2001:DB8:0:0::1', { confidence: 10 });
    expect((await ask('ip=2001:db8::1&json')).body).toMatchObject({ ip: { appears: 1, confidence: 10 } });
  });

  it('matches an e-mail by its md5 hash or raw, answering under the key that was asked', async () => {
    fake.list('email', 'Spammer@Example.org', { confidence: 95 });
    const hash = md5('spammer@example.org');
    expect((await ask(`emailhash=${hash}&json`)).body).toMatchObject({ emailhash: { appears: 1, confidence: 95 } });
    expect((await ask('email=spammer%40example.org&json')).body).toMatchObject({ email: { appears: 1 } });
  });

  it('reports a Tor exit node that is not otherwise listed', async () => {
    fake.list('ip', '192.0.2.5', { appears: false, torexit: true });
    expect((await ask('ip=192.0.2.5&json')).body).toEqual({ success: 1, ip: { appears: 0, frequency: 0, torexit: 1 } });
  });

  it('answers every facet of a combined query and forgets unlisted values', async () => {
    fake.list('username', 'XrumerBot', { confidence: 60, frequency: 3 });
    fake.list('ip', '203.0.113.8');
    fake.unlist('ip', '203.0.113.8');
    const { body } = await ask('ip=203.0.113.8&username=xrumerbot&json');
    expect(body).toMatchObject({ success: 1, ip: { appears: 0 }, username: { appears: 1, frequency: 3, confidence: 60 } });
  });

  it('answers success 0 when the api-error fault is set', async () => {
    fake.faults.inject({ kind: 'api-error', error: 'rate limit exceeded' });
    expect((await ask('ip=203.0.113.7&json')).body).toEqual({ success: 0, error: 'rate limit exceeded' });
  });

  it('refuses requests the real service would not answer in JSON', async () => {
    expect((await ask('ip=203.0.113.7')).type).toBe('text/xml');
    expect((await fetch(`${fake.url}/other`)).status).toBe(404);
    expect((await ask('json')).body).toMatchObject({ success: 0 });
  });

  it('refuses listings with impossible numbers', () => {
    expect(() => fake.list('ip', '203.0.113.7', { confidence: 101 })).toThrow(RangeError);
    expect(() => fake.list('ip', '203.0.113.7', { frequency: -1 })).toThrow(RangeError);
  });

  it('counts and records calls, and reset clears them', async () => {
    await ask('ip=203.0.113.7&json');
    await ask('username=bob&json');
    expect(fake.calls.count).toBe(2);
    expect(fake.calls.requests[1]?.query).toEqual({ username: 'bob', json: '' });
    fake.reset();
    expect(fake.calls.count).toBe(0);
  });
});
