import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_AKISMET_KEY, startFakeAkismet } from '../src/akismet-fake.js';
import type { AkismetFake } from '../src/akismet-fake.js';

let fake: AkismetFake;

async function post(path: string, fields: Record<string, string>): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(`${fake.url}${path}`, { method: 'POST', body: new URLSearchParams(fields) });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

const BASE = { api_key: FAKE_AKISMET_KEY, blog: 'https://example.org', user_ip: '203.0.113.7' };

beforeAll(async () => {
  fake = await startFakeAkismet();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('startFakeAkismet', () => {
  it('answers false for ham and true for a matching rule, with the discard pro-tip when asked', async () => {
    fake.markSpam({ contentIncludes: 'Casino', discard: true });
    fake.markSpam({ ip: '198.51.100.9' });
    expect((await post('/1.1/comment-check', { ...BASE, comment_content: 'hello' })).body).toBe('false');
    const blatant = await post('/1.1/comment-check', { ...BASE, comment_content: 'best casino' });
    expect(blatant.body).toBe('true');
    expect(blatant.headers.get('x-akismet-pro-tip')).toBe('discard');
    const byIp = await post('/1.1/comment-check', { ...BASE, user_ip: '198.51.100.9' });
    expect([byIp.body, byIp.headers.get('x-akismet-pro-tip')]).toEqual(['true', null]);
  });

  it('always calls the documented test author spam', async () => {
    expect((await post('/1.1/comment-check', { ...BASE, comment_author: 'akismet-guaranteed-spam' })).body).toBe('true');
  });

  it('answers invalid with a debug header for a wrong key, a missing blog or user_ip', async () => {
    const wrongKey = await post('/1.1/comment-check', { ...BASE, api_key: 'nope' });
    expect(wrongKey.body).toBe('invalid');
    expect(wrongKey.headers.get('x-akismet-debug-help')).toContain('Invalid API key');
    expect((await post('/1.1/comment-check', { ...BASE, blog: '' })).headers.get('x-akismet-debug-help')).toBe('Empty "blog" value');
    expect((await post('/1.1/comment-check', { ...BASE, user_ip: '' })).headers.get('x-akismet-debug-help')).toBe('Empty "user_ip" value');
  });

  it('thanks for submit-spam / submit-ham and verifies keys', async () => {
    expect((await post('/1.1/submit-spam', BASE)).body).toBe('Thanks for making the web a better place.');
    expect((await post('/1.1/submit-ham', BASE)).body).toBe('Thanks for making the web a better place.');
    expect((await post('/1.1/verify-key', { key: FAKE_AKISMET_KEY, blog: 'https://example.org' })).body).toBe('valid');
    expect((await post('/1.1/verify-key', { key: 'other', blog: 'https://example.org' })).body).toBe('invalid');
    expect((await post('/1.1/other', BASE)).status).toBe(404);
  });

  it('injects its own answers', async () => {
    fake.faults.inject({ kind: 'spam', discard: true }, { times: 1 });
    expect((await post('/1.1/comment-check', BASE)).headers.get('x-akismet-pro-tip')).toBe('discard');
    fake.faults.inject({ kind: 'alert', code: 10003 }, { times: 1 });
    expect((await post('/1.1/comment-check', BASE)).headers.get('x-akismet-alert-code')).toBe('10003');
    fake.faults.inject({ kind: 'invalid', help: 'Empty "user_ip" value' }, { times: 1 });
    expect((await post('/1.1/comment-check', BASE)).body).toBe('invalid');
    expect((await post('/1.1/comment-check', BASE)).body).toBe('false');
  });

  it('records every form with the key redacted', async () => {
    await post('/1.1/comment-check', { ...BASE, comment_author_email: 'a@example.org' });
    expect(fake.submissions).toEqual([
      { endpoint: 'comment-check', fields: { ...BASE, api_key: '[redacted]', comment_author_email: 'a@example.org' } },
    ]);
    expect(JSON.stringify(fake.submissions)).not.toContain(FAKE_AKISMET_KEY);
  });
});
