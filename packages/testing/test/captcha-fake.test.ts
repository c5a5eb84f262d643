import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CAPTCHA_SECRET, startFakeCaptcha } from '../src/captcha-fake.js';
import type { CaptchaFake } from '../src/captcha-fake.js';

async function verify(fake: CaptchaFake, fields: Record<string, string>, json = false): Promise<Record<string, unknown>> {
  const response = await fetch(`${fake.url}${fake.path}`, {
    method: 'POST',
    ...(json
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) }
      : { body: new URLSearchParams(fields) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('startFakeCaptcha (turnstile)', () => {
  let fake: CaptchaFake;
  beforeAll(async () => {
    fake = await startFakeCaptcha({ service: 'turnstile' });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('verifies a token once, then answers timeout-or-duplicate', async () => {
    const token = fake.issueToken({ hostname: 'forms.example.org', action: 'signup', cdata: 'x' });
    expect(fake.path).toBe('/turnstile/v0/siteverify');
    const first = await verify(fake, { secret: FAKE_CAPTCHA_SECRET, response: token, remoteip: '203.0.113.7' });
    expect(first).toMatchObject({ success: true, 'error-codes': [], hostname: 'forms.example.org', action: 'signup', cdata: 'x' });
    expect(Number.isNaN(Date.parse(String(first['challenge_ts'])))).toBe(false);
    expect(await verify(fake, { secret: FAKE_CAPTCHA_SECRET, response: token })).toEqual({
      success: false,
      'error-codes': ['timeout-or-duplicate'],
      messages: [],
    });
    expect(fake.verifications.map((v) => v.success)).toEqual([true, false]);
    expect(fake.verifications[0]?.remoteip).toBe('203.0.113.7');
  });

  it('names a wrong or missing secret, a missing or unknown token, and accepts JSON bodies', async () => {
    expect((await verify(fake, { response: 'x' }))['error-codes']).toEqual(['missing-input-secret']);
    expect((await verify(fake, { secret: 'nope', response: 'x' }))['error-codes']).toEqual(['invalid-input-secret']);
    expect((await verify(fake, { secret: FAKE_CAPTCHA_SECRET }))['error-codes']).toEqual(['missing-input-response']);
    expect((await verify(fake, { secret: FAKE_CAPTCHA_SECRET, response: 'forged' }, true))['error-codes']).toEqual(['invalid-input-response']);
    expect(await verify(fake, { secret: FAKE_CAPTCHA_SECRET, response: fake.issueToken() }, true)).toMatchObject({ success: true });
    expect(JSON.stringify(fake.verifications)).not.toContain(FAKE_CAPTCHA_SECRET);
  });

  it('answers forced error codes', async () => {
    fake.faults.inject({ kind: 'error-codes', codes: ['internal-error'] }, { times: 1 });
    expect((await verify(fake, { secret: FAKE_CAPTCHA_SECRET, response: fake.issueToken() }))['error-codes']).toEqual(['internal-error']);
  });
});

describe('startFakeCaptcha (hcaptcha)', () => {
  let fake: CaptchaFake;
  beforeAll(async () => {
    fake = await startFakeCaptcha({ service: 'hcaptcha', secret: 'h-secret', sitekey: 'site-1' });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('speaks hCaptcha: its path, its codes, the enterprise score', async () => {
    expect(fake.path).toBe('/siteverify');
    const token = fake.issueToken({ score: 0.2 });
    expect(await verify(fake, { secret: 'h-secret', response: token, sitekey: 'site-1' })).toMatchObject({ success: true, score: 0.2, credit: false });
    expect((await verify(fake, { secret: 'h-secret', response: token }))['error-codes']).toEqual(['invalid-or-already-seen-response']);
    expect((await verify(fake, { secret: 'h-secret', response: fake.issueToken({ expired: true }) }))['error-codes']).toEqual(['expired-input-response']);
    expect((await verify(fake, { secret: 'h-secret', response: fake.issueToken(), sitekey: 'site-2' }))['error-codes']).toEqual(['sitekey-secret-mismatch']);
    expect(() => fake.issueToken({ score: 2 })).toThrow(RangeError);
  });
});
