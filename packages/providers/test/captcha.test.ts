import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { AsyncProvider, ProviderResponseError, Signal, Subject } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCaptcha } from '../../testing/src/captcha-fake.js';
import type { CaptchaFake, CaptchaFault, CaptchaService } from '../../testing/src/captcha-fake.js';
import { classifySiteverifyFailure, parseSiteverify } from '../src/captcha/answer.js';
import { hcaptcha, isChallengePassed, turnstile } from '../src/captcha/providers.js';
import type { HcaptchaOptions, TurnstileOptions } from '../src/captcha/providers.js';

const SECRET = '0x4AAAAAAA-captcha-secret';
const never = (): AbortSignal => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await promise;
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

const SERVICES: { service: CaptchaService; field: string; duplicate: string; expired: string; label: string }[] = [
  { service: 'turnstile', field: 'cf-turnstile-response', duplicate: 'timeout-or-duplicate', expired: 'timeout-or-duplicate', label: 'Turnstile' },
  { service: 'hcaptcha', field: 'h-captcha-response', duplicate: 'invalid-or-already-seen-response', expired: 'expired-input-response', label: 'hCaptcha' },
];

describe.each(SERVICES)('$service', ({ service, field, duplicate, expired, label }) => {
  let fake: CaptchaFake;
  const create = (options: Partial<TurnstileOptions & HcaptchaOptions> = {}): AsyncProvider => {
    const all = { secret: SECRET, baseUrl: fake.url, ...options };
    return service === 'turnstile' ? turnstile(all) : hcaptcha(all);
  };
  const withToken = (token: string, extra: Subject = {}): Subject => ({ ip: '203.0.113.7', ...extra, fields: { name: 'Ann', [field]: token } });

  beforeAll(async () => {
    fake = await startFakeCaptcha({ service, secret: SECRET, sitekey: 'site-key-1' });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('passes a fresh token with score 0, and fails it as a duplicate the second time', async () => {
    const token = fake.issueToken({ hostname: 'forms.example.org' });
    const provider = create();
    const passed = await provider.check(withToken(token), { signal: never() });
    expect(passed).toMatchObject({ score: 0, reasons: [`${label} challenge passed`], data: { challenge: 'passed', hostname: 'forms.example.org' } });
    expect(typeof passed.data?.['challengeTs']).toBe('string');
    expect(fake.verifications[0]).toMatchObject({ token, remoteip: '203.0.113.7', success: true });
    const again = await provider.check(withToken(token), { signal: never() });
    expect(again).toEqual({ score: 1, reasons: [`${label} challenge failed (${duplicate})`], data: { challenge: 'failed', errorCodes: [duplicate] } });
  });

  it('fails unknown and expired tokens with the configured score', async () => {
    const provider = create({ failedScore: 0.8 });
    const unknown = await provider.check(withToken('forged-token'), { signal: never() });
    expect(unknown).toMatchObject({ score: 0.8, data: { challenge: 'failed', errorCodes: ['invalid-input-response'] } });
    const late = await provider.check(withToken(fake.issueToken({ expired: true })), { signal: never() });
    expect(late).toMatchObject({ score: 0.8, data: { errorCodes: [expired] } });
  });

  it('is neutral without a token, and makes no call', async () => {
    const provider = create();
    expect(await provider.check({ ip: '203.0.113.7', fields: { name: 'Ann' } }, { signal: never() })).toEqual({
      score: 0,
      reasons: [],
      data: { challenge: 'absent' },
    });
    expect(await provider.check(withToken('   '), { signal: never() })).toMatchObject({ data: { challenge: 'absent' } });
    expect(fake.calls.count).toBe(0);
    expect(provider.facets).toEqual(['fields']);
    expect(provider.defaults).toEqual({ weight: 1 });
  });

  it('fails a token solved on another hostname, and an over-long token without a call', async () => {
    const provider = create({ hostnames: ['forms.example.org'] });
    const elsewhere = await provider.check(withToken(fake.issueToken({ hostname: 'evil.example' })), { signal: never() });
    expect(elsewhere).toMatchObject({ score: 1, reasons: [`${label} challenge failed (solved on another hostname)`] });
    const before = fake.calls.count;
    expect((await provider.check(withToken('x'.repeat(2049)), { signal: never() })).score).toBe(1);
    expect(fake.calls.count).toBe(before);
  });

  it('keeps the IP to itself when told to, and reads the token from a configured field', async () => {
    const token = fake.issueToken();
    await create({ sendRemoteIp: false, field: 'captcha' }).check({ ip: '203.0.113.7', fields: { captcha: token } }, { signal: never() });
    expect(fake.verifications[0]).toMatchObject({ token, success: true });
    expect(fake.verifications[0]).not.toHaveProperty('remoteip');
  });

  it('calls a refused secret an auth error and internal-error an http error', async () => {
    expect((await failure(create({ secret: 'wrong-secret' }).check(withToken(fake.issueToken()), { signal: never() }))).kind).toBe('auth');
    fake.faults.inject({ kind: 'error-codes', codes: ['missing-input-secret'] }, { times: 1 });
    expect((await failure(create().check(withToken('t'), { signal: never() }))).kind).toBe('auth');
    fake.faults.inject({ kind: 'error-codes', codes: ['internal-error'] }, { times: 1 });
    expect((await failure(create().check(withToken('t'), { signal: never() }))).kind).toBe('http');
    fake.faults.inject({ kind: 'error-codes', codes: ['bad-request'] }, { times: 1 });
    expect((await failure(create().check(withToken('t'), { signal: never() }))).kind).toBe('invalid-input');
  });

  it.each([
    [{ kind: 'html' }, 'malformed'],
    [{ kind: 'malformed-json' }, 'malformed'],
    [{ kind: 'status', status: 502 }, 'http'],
    [{ kind: 'rate-limit', retryAfter: 2 }, 'rate-limited'],
    [{ kind: 'reset' }, 'network'],
  ] as [CaptchaFault, string][])('classifies %o as %s', async (fault, kind) => {
    fake.faults.inject(fault);
    expect((await failure(create().check(withToken('t'), { signal: never() }))).kind).toBe(kind);
  });

  it('stops at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = create().check(withToken('t'), { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never exposes the secret or the token in an error or a result', async () => {
    const token = fake.issueToken();
    const faults: CaptchaFault[] = [
      { kind: 'error-codes', codes: ['invalid-input-secret'] },
      { kind: 'error-codes', codes: ['internal-error'] },
      { kind: 'html' },
      { kind: 'status', status: 500 },
      { kind: 'reset' },
    ];
    for (const fault of faults) {
      fake.faults.inject(fault);
      const error = await failure(create().check(withToken(token), { signal: never() }));
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
      for (const secret of [SECRET, token, fake.url]) expect(exposed, `${fault.kind} exposes ${secret}`).not.toContain(secret);
    }
    fake.faults.clear();
    expect(JSON.stringify(await create().check(withToken(token), { signal: never() }))).not.toContain(SECRET);
    expect(JSON.stringify(fake.verifications)).not.toContain(SECRET);
  });
});

describe('service specifics', () => {
  it('turnstile fails a token solved for another action', async () => {
    const fake = await startFakeCaptcha({ service: 'turnstile' });
    try {
      const provider = turnstile({ secret: fake.secret, baseUrl: fake.url, action: 'signup' });
      const login = await provider.check({ fields: { 'cf-turnstile-response': fake.issueToken({ action: 'login' }) } }, { signal: never() });
      expect(login).toMatchObject({ score: 1, reasons: ['Turnstile challenge failed (solved for another action)'] });
      const signup = await provider.check({ fields: { 'cf-turnstile-response': fake.issueToken({ action: 'signup' }) } }, { signal: never() });
      expect(signup).toMatchObject({ score: 0, data: { action: 'signup' } });
    } finally {
      await fake.close();
    }
  });

  it('hcaptcha sends the sitekey and passes an enterprise score on as data', async () => {
    const fake = await startFakeCaptcha({ service: 'hcaptcha', sitekey: 'site-key-1' });
    try {
      const provider = hcaptcha({ secret: fake.secret, baseUrl: fake.url, sitekey: 'site-key-1' });
      const result = await provider.check({ fields: { 'h-captcha-response': fake.issueToken({ score: 0.3 }) } }, { signal: never() });
      expect(result).toMatchObject({ score: 0, data: { challenge: 'passed', riskScore: 0.3 } });
      expect(fake.verifications[0]?.sitekey).toBe('site-key-1');
      const mismatch = hcaptcha({ secret: fake.secret, baseUrl: fake.url, sitekey: 'other-site' });
      expect((await failure(mismatch.check({ fields: { 'h-captcha-response': fake.issueToken() } }, { signal: never() }))).kind).toBe('auth');
    } finally {
      await fake.close();
    }
  });
});

describe('siteverify reading', () => {
  it('refuses answers of the wrong shape and drops odd error codes', () => {
    expect(() => parseSiteverify('t', [])).toThrow(/not a JSON object/);
    expect(() => parseSiteverify('t', { success: 'yes' })).toThrow(/success/);
    expect(() => parseSiteverify('t', { success: false, 'error-codes': [1] })).toThrow(/error-codes/);
    expect(parseSiteverify('t', { success: false, 'error-codes': ['Bad <code> with spaces', 'timeout-or-duplicate'] })).toEqual({
      success: false,
      errorCodes: ['timeout-or-duplicate'],
    });
  });

  it('fails the challenge on token codes or none, and errs on unknown ones', () => {
    expect(classifySiteverifyFailure('t', [])).toEqual({ kind: 'token', codes: [] });
    expect(classifySiteverifyFailure('t', ['invalid-input-response'])).toEqual({ kind: 'token', codes: ['invalid-input-response'] });
    const unknown = classifySiteverifyFailure('t', ['something-new']);
    expect(unknown.kind === 'error' && unknown.error.kind).toBe('http');
    const mixed = classifySiteverifyFailure('t', ['invalid-input-response', 'invalid-input-secret']);
    expect(mixed.kind === 'error' && mixed.error.kind).toBe('auth');
  });
});

describe('isChallengePassed', () => {
  const signal = (status: Signal['status'], challenge: string): Signal => ({ status, reasons: [], latencyMs: 1, data: { challenge } });
  it('is true only for a fresh passed challenge of the named provider', () => {
    expect(isChallengePassed({ signals: { turnstile: signal('fresh', 'passed') } })).toBe(true);
    expect(isChallengePassed({ signals: { turnstile: signal('cached', 'passed') } })).toBe(false);
    expect(isChallengePassed({ signals: { turnstile: signal('fresh', 'failed') } })).toBe(false);
    expect(isChallengePassed({ signals: { hcaptcha: signal('fresh', 'passed') } })).toBe(false);
    expect(isChallengePassed({ signals: { hcaptcha: signal('fresh', 'passed') } }, 'hcaptcha')).toBe(true);
  });
});

describe('captcha configuration', () => {
  it('names every wrong option without echoing the secret', () => {
    let issues = '';
    try {
      turnstile({ secret: 'spaced secret value', field: ' ', hostnames: [], failedScore: 2, weight: -1 });
    } catch (error) {
      if (isConfigurationError(error)) issues = error.issues.join('\n');
    }
    for (const key of ['secret', 'field', 'hostnames', 'failedScore', 'weight']) expect(issues).toContain(`turnstile.${key}`);
    expect(issues).not.toContain('spaced secret value');
    expect(() => hcaptcha({ secret: SECRET, baseUrl: 'http://api.hcaptcha.com' })).toThrow(/hcaptcha\.baseUrl/);
  });
});
