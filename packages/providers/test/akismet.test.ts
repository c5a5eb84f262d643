import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError, Subject } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAkismet } from '../../testing/src/akismet-fake.js';
import type { AkismetFake, AkismetFault } from '../../testing/src/akismet-fake.js';
import { AKISMET_DEFAULTS, AKISMET_LIMITS, akismet } from '../src/akismet/provider.js';
import type { AkismetOptions } from '../src/akismet/provider.js';

const KEY = 'akismet-secret-key-1234';
const BLOG = 'https://forms.example.org';
const SUBJECT: Subject = {
  ip: '203.0.113.7',
  email: 'Visitor@Example.org',
  username: 'visitor',
  content: 'Hello, I would like a quote.',
  userAgent: 'Mozilla/5.0',
  fields: { website: '' },
};
const never = (): AbortSignal => new AbortController().signal;

let fake: AkismetFake;
const provider = (options: Partial<AkismetOptions> = {}): ReturnType<typeof akismet> =>
  akismet({ apiKey: KEY, blog: BLOG, baseUrl: fake.url, ...options });

async function failure(promise: Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await promise;
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  fake = await startFakeAkismet({ apiKey: KEY });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('akismet comment-check', () => {
  it('sends the documented form and scores ham 0', async () => {
    const result = await provider({ blogLang: 'en', permalink: `${BLOG}/contact` }).check(SUBJECT, { signal: never() });
    expect(result).toEqual({ score: 0, reasons: [], data: { spam: false, discard: false } });
    expect(fake.calls.requests[0]).toMatchObject({ method: 'POST', path: '/1.1/comment-check' });
    expect(fake.calls.requests[0]?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(fake.submissions[0]?.fields).toEqual({
      api_key: '[redacted]',
      blog: BLOG,
      user_ip: '203.0.113.7',
      comment_type: 'contact-form',
      blog_charset: 'UTF-8',
      user_agent: 'Mozilla/5.0',
      permalink: `${BLOG}/contact`,
      blog_lang: 'en',
      comment_author: 'visitor',
      comment_author_email: 'Visitor@Example.org',
      comment_content: 'Hello, I would like a quote.',
    });
  });

  it('scores spam 1 and keeps the discard pro-tip as data and a reason', async () => {
    fake.markSpam({ contentIncludes: 'casino' });
    fake.markSpam({ email: 'bot@spam.example', discard: true });
    const spam = await provider().check({ ...SUBJECT, content: 'Best CASINO bonus' }, { signal: never() });
    expect(spam).toEqual({ score: 1, reasons: ['Akismet: spam'], data: { spam: true, discard: false } });
    const blatant = await provider().check({ ...SUBJECT, email: 'bot@spam.example' }, { signal: never() });
    expect(blatant).toEqual({
      score: 1,
      reasons: ['Akismet: blatant spam (safe to discard)'],
      data: { spam: true, discard: true },
    });
  });

  it('takes configurable scores and answers the guaranteed-spam test author', async () => {
    const tuned = provider({ spamScore: 0.7, discardScore: 0.95 });
    expect((await tuned.check({ ...SUBJECT, username: 'akismet-guaranteed-spam' }, { signal: never() })).score).toBe(0.7);
    fake.faults.inject({ kind: 'spam', discard: true }, { times: 1 });
    expect((await tuned.check(SUBJECT, { signal: never() })).score).toBe(0.95);
  });

  it('keeps content, e-mail and username from Akismet when told to', async () => {
    const discreet = provider({ sendContent: false, sendEmail: false, sendUsername: false, isTest: true });
    expect(discreet.facets).toEqual(['ip']);
    await discreet.check(SUBJECT, { signal: never() });
    const fields = fake.submissions[0]?.fields ?? {};
    expect(fields).not.toHaveProperty('comment_content');
    expect(fields).not.toHaveProperty('comment_author_email');
    expect(fields).not.toHaveProperty('comment_author');
    expect(fields['is_test']).toBe('1');
    expect(provider({ sendEmail: false }).facets).toEqual(['content', 'username']);
  });

  it('sends the honeypot field with its name', async () => {
    await provider({ honeypotField: 'website' }).check({ ...SUBJECT, fields: { website: 'http://spam.example' } }, { signal: never() });
    expect(fake.submissions[0]?.fields).toMatchObject({ honeypot_field_name: 'website', website: 'http://spam.example' });
  });

  it('passes an account alert code on as data', async () => {
    fake.faults.inject({ kind: 'alert', code: 10003, message: 'over plan' });
    expect((await provider().check(SUBJECT, { signal: never() })).data).toEqual({ spam: false, discard: false, alertCode: 10003 });
  });
});

describe('akismet failures', () => {
  it('calls a rejected key or blog an auth error, a bad user_ip invalid-input', async () => {
    expect((await failure(provider({ apiKey: 'wrong-key' }).check(SUBJECT, { signal: never() }))).kind).toBe('auth');
    fake.faults.inject({ kind: 'invalid', help: 'Empty "blog" value' }, { times: 1 });
    expect((await failure(provider().check(SUBJECT, { signal: never() }))).kind).toBe('auth');
    fake.faults.inject({ kind: 'invalid', help: 'Empty "user_ip" value' }, { times: 1 });
    expect((await failure(provider().check(SUBJECT, { signal: never() }))).kind).toBe('invalid-input');
  });

  it('refuses a subject without an IP before calling', async () => {
    const error = await failure(provider().check({ content: 'hello' }, { signal: never() }));
    expect(error.kind).toBe('invalid-input');
    expect(fake.calls.count).toBe(0);
  });

  it.each([
    [{ kind: 'html' }, 'malformed'],
    [{ kind: 'status', status: 503 }, 'http'],
    [{ kind: 'status', status: 401 }, 'auth'],
    [{ kind: 'rate-limit', retryAfter: 9 }, 'rate-limited'],
    [{ kind: 'reset' }, 'network'],
    [{ kind: 'truncated' }, 'network'],
  ] as [AkismetFault, string][])('classifies %o as %s', async (fault, kind) => {
    fake.faults.inject(fault);
    expect((await failure(provider().check(SUBJECT, { signal: never() }))).kind).toBe(kind);
  });

  it('stops at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = provider().check(SUBJECT, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never exposes the key, the e-mail or the content in an error', async () => {
    const faults: AkismetFault[] = [
      { kind: 'invalid', help: `Invalid API key ${KEY}` },
      { kind: 'html' },
      { kind: 'status', status: 500 },
      { kind: 'rate-limit' },
      { kind: 'reset' },
    ];
    for (const fault of faults) {
      fake.faults.inject(fault);
      const error = await failure(provider().check(SUBJECT, { signal: never() }));
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
      for (const secret of [KEY, 'Visitor@Example.org', 'would like a quote', fake.url]) {
        expect(exposed, `${fault.kind} exposes ${secret}`).not.toContain(secret);
      }
    }
    expect(JSON.stringify(fake.calls.requests)).not.toContain(KEY);
    expect(JSON.stringify(fake.submissions)).not.toContain(KEY);
  });
});

describe('akismet report', () => {
  it('submits spam and ham with the same parameters', async () => {
    const reporter = provider();
    await reporter.report(SUBJECT, 'spam', { signal: never() });
    await reporter.report(SUBJECT, 'ham', { signal: never() });
    expect(fake.submissions.map((submission) => submission.endpoint)).toEqual(['submit-spam', 'submit-ham']);
    expect(fake.submissions[0]?.fields).toMatchObject({ user_ip: '203.0.113.7', comment_content: SUBJECT.content });
  });

  it('fails like a check when the key is refused, and refuses unknown kinds', async () => {
    expect((await failure(provider({ apiKey: 'nope' }).report(SUBJECT, 'spam', { signal: never() }))).kind).toBe('auth');
    await expect(provider().report(SUBJECT, 'maybe' as 'spam', { signal: never() })).rejects.toThrow(TypeError);
  });
});

describe('akismet configuration', () => {
  it('names every wrong option without echoing the key', () => {
    let issues = '';
    try {
      akismet({ apiKey: 'has space secret', blog: 'not a url', spamScore: 2, weight: -1, ttlMs: 0, commentType: ' ' });
    } catch (error) {
      if (isConfigurationError(error)) issues = error.issues.join('\n');
    }
    for (const key of ['apiKey', 'blog', 'spamScore', 'weight', 'ttlMs', 'commentType']) expect(issues).toContain(`akismet.${key}`);
    expect(issues).not.toContain('secret');
    expect(() => akismet({ apiKey: KEY, blog: BLOG, baseUrl: 'http://rest.akismet.com' })).toThrow(/akismet\.baseUrl/);
  });

  it('describes itself with documented defaults', () => {
    const described = akismet({ apiKey: KEY, blog: BLOG });
    expect(described).toMatchObject({ name: 'akismet', version: '1', facets: ['content', 'email', 'username'] });
    expect(described.defaults).toEqual({ ...AKISMET_DEFAULTS, limits: AKISMET_LIMITS });
  });
});
