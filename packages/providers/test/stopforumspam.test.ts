import { createHash } from 'node:crypto';
import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError, Subject } from '@formsecurity/core';
import { startFakeStopForumSpam } from '@formsecurity/testing';
import type { StopForumSpamFake, StopForumSpamFault } from '@formsecurity/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STOP_FORUM_SPAM_DEFAULTS, stopForumSpam } from '../src/index.js';

const IP = '203.0.113.7';
const EMAIL = 'Spammer.Person@Example.org';
const USERNAME = 'xrumer-bot';
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
const never = (): AbortSignal => new AbortController().signal;

let fake: StopForumSpamFake;
const provider = (): ReturnType<typeof stopForumSpam> => stopForumSpam({ baseUrl: fake.url });

async function failure(subject: Subject, signal = never()): Promise<ProviderResponseError> {
  try {
    await provider().check(subject, { signal });
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected the check to fail');
}

beforeAll(async () => {
  fake = await startFakeStopForumSpam();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('stopForumSpam answers', () => {
  it('scores a listed IP by its confidence and says why', async () => {
    fake.list('ip', IP, { confidence: 87, frequency: 12, lastseen: '2024-05-01 10:00:00' });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBeCloseTo(0.87);
    expect(result.reasons).toEqual(['IP listed on StopForumSpam (confidence 87%, seen 12 times)']);
    expect(result.data).toEqual({ ip: { appears: true, frequency: 12, confidence: 87, lastseen: '2024-05-01 10:00:00' } });
    expect(fake.calls.requests[0]?.path).toBe('/api');
    expect(fake.calls.requests[0]?.query).toEqual({ ip: IP, json: '' });
  });

  it('scores an unlisted subject 0 with no reasons', async () => {
    const result = await provider().check({ ip: '198.51.100.4', username: 'alice' }, { signal: never() });
    expect(result.score).toBe(0);
    expect(result.reasons).toEqual([]);
    expect(result.data).toEqual({ ip: { appears: false, frequency: 0 }, username: { appears: false, frequency: 0 } });
  });

  it('sends an e-mail only as the md5 of its trimmed lower-cased form', async () => {
    fake.list('email', EMAIL, { confidence: 95, frequency: 1 });
    const result = await provider().check({ email: `  ${EMAIL} ` }, { signal: never() });
    expect(result.score).toBeCloseTo(0.95);
    expect(result.reasons).toEqual(['E-mail address listed on StopForumSpam (confidence 95%, seen once)']);
    const [request] = fake.calls.requests;
    expect(request?.query['emailhash']).toBe(md5(EMAIL.toLowerCase()));
    expect(request?.query).not.toHaveProperty('email');
    const everythingSent = JSON.stringify(fake.calls.requests).toLowerCase();
    expect(everythingSent).not.toContain(EMAIL.toLowerCase());
    expect(everythingSent).not.toContain('example.org');
    expect(JSON.stringify(result)).not.toContain('example.org');
  });

  it('scores a listed username', async () => {
    fake.list('username', USERNAME, { confidence: 40, frequency: 3 });
    const result = await provider().check({ username: USERNAME }, { signal: never() });
    expect(result.score).toBeCloseTo(0.4);
    expect(result.reasons).toEqual(['Username listed on StopForumSpam (confidence 40%, seen 3 times)']);
    expect(fake.calls.requests[0]?.query['username']).toBe(USERNAME);
  });

  it('takes the highest confidence over the facets that appear, in one call', async () => {
    fake.list('ip', IP, { confidence: 30 });
    fake.list('username', USERNAME, { confidence: 70 });
    const result = await provider().check({ ip: IP, email: 'clean@example.net', username: USERNAME }, { signal: never() });
    expect(fake.calls.count).toBe(1);
    expect(result.score).toBeCloseTo(0.7);
    expect(result.reasons).toHaveLength(2);
    expect(JSON.stringify(result.data)).not.toContain(IP);
    expect(JSON.stringify(result.data)).not.toContain(USERNAME);
  });

  it('reports a Tor exit node without raising the score', async () => {
    fake.list('ip', IP, { appears: false, torexit: true });
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(0);
    expect(result.reasons).toEqual(['IP is a Tor exit node (StopForumSpam)']);
    expect(result.data).toEqual({ ip: { appears: false, frequency: 0, torexit: true } });
  });

  it('sends only the configured facets and makes no call when none is present', async () => {
    const ipOnly = stopForumSpam({ baseUrl: fake.url, facets: ['ip'] });
    await ipOnly.check({ ip: IP, username: USERNAME }, { signal: never() });
    expect(fake.calls.requests[0]?.query).toEqual({ ip: IP, json: '' });
    const nothing = await ipOnly.check({ username: USERNAME }, { signal: never() });
    expect(nothing).toEqual({ score: 0, reasons: [] });
    expect(fake.calls.count).toBe(1);
  });
});

describe('stopForumSpam failures', () => {
  it('turns success 0 into a provider error, invalid requests into invalid-input', async () => {
    fake.faults.inject({ kind: 'api-error', error: 'service busy' });
    expect((await failure({ ip: IP })).kind).toBe('http');
    fake.faults.inject({ kind: 'api-error', error: 'invalid ip address' });
    expect((await failure({ ip: IP })).kind).toBe('invalid-input');
  });

  it.each([
    [{ kind: 'malformed-json' }, 'malformed', undefined],
    [{ kind: 'html' }, 'malformed', 200],
    [{ kind: 'status', status: 500 }, 'http', 500],
    [{ kind: 'status', status: 503 }, 'http', 503],
    [{ kind: 'truncated' }, 'network', undefined],
    [{ kind: 'reset' }, 'network', undefined],
  ] as [StopForumSpamFault, string, number | undefined][])('classifies %o as %s', async (fault, kind, status) => {
    fake.faults.inject(fault);
    const error = await failure({ ip: IP });
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
  });

  it('surfaces Retry-After of a 429 as retryAfterMs', async () => {
    fake.faults.inject({ kind: 'rate-limit', retryAfter: 30 });
    const error = await failure({ ip: IP });
    expect(error.kind).toBe('rate-limited');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(30_000);
  });

  it('stops a slow answer at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const reason = new Error('deadline passed');
    const pending = provider().check({ ip: IP }, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // The fake would never answer: only the client closing its socket ends this exchange.
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('stops during injected latency too', async () => {
    fake.faults.latency(60_000);
    const controller = new AbortController();
    const pending = provider().check({ ip: IP }, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never puts the query, the subject or the URL in an error message', async () => {
    const subject: Subject = { ip: IP, email: EMAIL, username: USERNAME };
    const faults: StopForumSpamFault[] = [
      { kind: 'api-error', error: `invalid ip ${IP}` },
      { kind: 'malformed-json' },
      { kind: 'html' },
      { kind: 'status', status: 500 },
      { kind: 'rate-limit', retryAfter: 5 },
      { kind: 'truncated' },
      { kind: 'reset' },
    ];
    const forbidden = [fake.url, '127.0.0.1', '/api', '?', '&json', 'emailhash', IP, EMAIL.toLowerCase(), md5(EMAIL.toLowerCase()), USERNAME];
    for (const fault of faults) {
      fake.faults.inject(fault);
      const error = await failure(subject);
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`.toLowerCase();
      for (const text of forbidden) expect(exposed, `${fault.kind} exposes ${text}`).not.toContain(text.toLowerCase());
      expect(error.message.startsWith('stopforumspam: ')).toBe(true);
    }
  });
});

describe('stopForumSpam configuration', () => {
  it('requires https for a public base URL', () => {
    expect(() => stopForumSpam({ baseUrl: 'http://api.stopforumspam.org' })).toThrow(/stopForumSpam\.baseUrl/);
    expect(() => stopForumSpam({ baseUrl: 'http://api.stopforumspam.org', allowInsecureHttp: true })).not.toThrow();
    expect(() => stopForumSpam({ baseUrl: 'http://127.0.0.1:9' })).not.toThrow();
    expect(() => stopForumSpam()).not.toThrow();
  });

  it('names every wrong option', () => {
    let error: unknown;
    try {
      stopForumSpam({ weight: 2, ttlMs: -1, facets: [], maxBodyBytes: 0.5 });
    } catch (caught) {
      error = caught;
    }
    expect(isConfigurationError(error)).toBe(true);
    const issues = isConfigurationError(error) ? error.issues.join('\n') : '';
    for (const key of ['weight', 'ttlMs', 'facets', 'maxBodyBytes']) expect(issues).toContain(`stopForumSpam.${key}`);
  });

  it('describes itself with documented defaults', () => {
    const sfs = stopForumSpam();
    expect(sfs.name).toBe('stopforumspam');
    expect(sfs.facets).toEqual(['ip', 'email', 'username']);
    expect(sfs.local).toBeUndefined();
    expect(typeof sfs.version).toBe('string');
    expect(sfs.defaults).toEqual({ weight: STOP_FORUM_SPAM_DEFAULTS.weight, ttlMs: 24 * 60 * 60 * 1000, limits: { daily: 20_000 } });
    expect(stopForumSpam({ weight: 0.5, ttlMs: 1000 }).defaults).toEqual({ weight: 0.5, ttlMs: 1000, limits: { daily: 20_000 } });
  });
});
