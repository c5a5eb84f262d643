import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_MODERATION_KEY, MODERATION_CATEGORIES, startFakeModeration } from '../src/moderation-fake.js';
import type { ModerationFake } from '../src/moderation-fake.js';

let fake: ModerationFake;

async function moderate(body: unknown, key = FAKE_MODERATION_KEY): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${fake.url}/v1/moderations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json(), headers: response.headers };
}

beforeAll(async () => {
  fake = await startFakeModeration({ requestLimit: 10 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('startFakeModeration', () => {
  it('answers every category, flagging those at 0.5 or more, with request limits', async () => {
    fake.flag('kill', { violence: 0.8, 'violence/graphic': 0.3 });
    const { status, json, headers } = await moderate({ model: 'omni-moderation-latest', input: 'I will KILL it' });
    expect(status).toBe(200);
    const result = (json as { results: { flagged: boolean; categories: Record<string, boolean>; category_scores: Record<string, number> }[] }).results[0];
    expect(result?.flagged).toBe(true);
    expect(Object.keys(result?.category_scores ?? {}).sort()).toEqual([...MODERATION_CATEGORIES].sort());
    expect(result?.categories['violence']).toBe(true);
    expect(result?.categories['violence/graphic']).toBe(false);
    expect(headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(headers.get('x-ratelimit-remaining-requests')).toBe('9');
    expect(fake.inputs).toEqual([{ model: 'omni-moderation-latest', input: 'I will KILL it' }]);
  });

  it('accepts a list of inputs and refuses a body without one', async () => {
    expect((await moderate({ input: ['a', 'b'] })).status).toBe(200);
    expect((await moderate({ model: 'x' })).status).toBe(400);
  });

  it('refuses a wrong key with 401 invalid_api_key, and never records the key', async () => {
    const { status, json } = await moderate({ input: 'hi' }, 'sk-wrong');
    expect(status).toBe(401);
    expect(json).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(JSON.stringify(fake.calls.requests)).not.toContain(FAKE_MODERATION_KEY);
  });

  it('answers both kinds of 429', async () => {
    fake.faults.inject({ kind: 'rate-limit-exceeded', resetRequests: '20s' }, { times: 1 });
    const limited = await moderate({ input: 'hi' });
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(limited.headers.get('x-ratelimit-reset-requests')).toBe('20s');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    fake.faults.inject({ kind: 'insufficient-quota' }, { times: 1 });
    expect((await moderate({ input: 'hi' })).json).toMatchObject({ error: { code: 'insufficient_quota', type: 'insufficient_quota' } });
  });

  it('refuses impossible scores', () => {
    expect(() => fake.flag('x', { hate: 1.5 })).toThrow(RangeError);
  });
});
