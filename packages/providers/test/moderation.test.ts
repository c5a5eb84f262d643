import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModeration } from '../../testing/src/moderation-fake.js';
import type { ModerationFake, ModerationFault } from '../../testing/src/moderation-fake.js';
import { MODERATION_DEFAULTS, moderation } from '../src/moderation/provider.js';
import type { ModerationOptions } from '../src/moderation/provider.js';
import { parseResetDuration, readModerationLimits } from '../src/moderation/rate-limits.js';

const KEY = 'sk-test-moderation-secret-987';
const TEXT = 'I will hurt you, you are worthless';
const never = (): AbortSignal => new AbortController().signal;

let fake: ModerationFake;
const provider = (options: Partial<ModerationOptions> = {}): ReturnType<typeof moderation> =>
  moderation({ apiKey: KEY, baseUrl: fake.url, ...options });

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
  fake = await startFakeModeration({ apiKey: KEY, requestLimit: 500 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('parseResetDuration', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m3.5s', 3_723_500],
    ['0.5s', 500],
    ['1500us', 2],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it.each(['', '10', 's', '1x', '-1s', '1s ago', 'NaNs'])('refuses %j', (text) => {
    expect(parseResetDuration(text)).toBeUndefined();
  });
});

describe('readModerationLimits', () => {
  const now = 1_000_000;
  it('reads remaining and reset, and a retry delay only for a 429', () => {
    const headers = new Headers({ 'x-ratelimit-remaining-requests': '42', 'x-ratelimit-reset-requests': '6m0s' });
    expect(readModerationLimits(headers, now, false)).toEqual({ remaining: 42, resetAtMs: now + 360_000 });
    expect(readModerationLimits(headers, now, true)).toEqual({ remaining: 42, resetAtMs: now + 360_000, retryAfterMs: 360_000 });
    expect(readModerationLimits(new Headers({ 'retry-after': '3' }), now, true)).toEqual({ retryAfterMs: 3000 });
    expect(readModerationLimits(new Headers({ 'x-ratelimit-remaining-requests': 'lots' }), now, false)).toEqual({});
  });
});

describe('moderation answers', () => {
  it('scores the highest category, names the flagged ones and passes limits on', async () => {
    fake.flag('hurt you', { violence: 0.82, harassment: 0.64, hate: 0.2 });
    const result = await provider().check({ content: TEXT }, { signal: never() });
    expect(result.score).toBeCloseTo(0.82);
    expect(result.reasons).toEqual(['Moderation flagged the text: harassment, violence']);
    expect(result.data).toEqual({
      flagged: true,
      flaggedCategories: ['harassment', 'violence'],
      top: [
        { category: 'violence', score: 0.82 },
        { category: 'harassment', score: 0.64 },
        { category: 'hate', score: 0.2 },
      ],
      model: 'omni-moderation-latest',
    });
    expect(result.upstream).toMatchObject({ remaining: 499 });
    expect(fake.inputs).toEqual([{ model: 'omni-moderation-latest', input: TEXT }]);
    expect(fake.calls.requests[0]?.headers['authorization']).toBe('[redacted]');
  });

  it('counts only the configured categories, or a custom score', async () => {
    fake.flag('hurt you', { violence: 0.82, harassment: 0.64 });
    const harassmentOnly = await provider({ categories: ['harassment'], model: 'text-moderation-stable' }).check({ content: TEXT }, { signal: never() });
    expect(harassmentOnly.score).toBeCloseTo(0.64);
    expect(harassmentOnly.reasons).toEqual(['Moderation flagged the text: harassment']);
    expect(fake.inputs[0]?.model).toBe('text-moderation-stable');
    const custom = await provider({ score: (r) => (r.flagged ? 0.5 : 0) }).check({ content: TEXT }, { signal: never() });
    expect(custom.score).toBe(0.5);
  });

  it('scores clean text near 0 without reasons, and skips empty text without a call', async () => {
    const clean = await provider().check({ content: 'Hello, what are your opening hours?' }, { signal: never() });
    expect(clean.score).toBeLessThan(0.01);
    expect(clean.reasons).toEqual([]);
    expect(await provider().check({ content: '  ' }, { signal: never() })).toEqual({ score: 0, reasons: [] });
    expect(fake.calls.count).toBe(1);
  });
});

describe('moderation failures', () => {
  it('tells a rate limit from an exhausted quota', async () => {
    fake.faults.inject({ kind: 'rate-limit-exceeded', resetRequests: '1m30s' }, { times: 1 });
    const limited = await failure(provider().check({ content: TEXT }, { signal: never() }));
    expect(limited).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterMs: 90_000 });
    expect(limited.message).toContain('rate_limit_exceeded');
    fake.faults.inject({ kind: 'insufficient-quota' }, { times: 1 });
    expect(await failure(provider().check({ content: TEXT }, { signal: never() }))).toMatchObject({ kind: 'quota-exceeded', status: 429 });
    fake.faults.inject({ kind: 'rate-limit', retryAfter: 7 }, { times: 1 });
    expect(await failure(provider().check({ content: TEXT }, { signal: never() }))).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000 });
  });

  it.each([
    [{ kind: 'no-results' }, 'malformed'],
    [{ kind: 'malformed-json' }, 'malformed'],
    [{ kind: 'html' }, 'malformed'],
    [{ kind: 'status', status: 500 }, 'http'],
    [{ kind: 'reset' }, 'network'],
    [{ kind: 'truncated' }, 'network'],
  ] as [ModerationFault, string][])('classifies %o as %s', async (fault, kind) => {
    fake.faults.inject(fault);
    expect((await failure(provider().check({ content: TEXT }, { signal: never() }))).kind).toBe(kind);
  });

  it('calls a refused key an auth error, without quoting it', async () => {
    const error = await failure(moderation({ apiKey: 'sk-wrong-secret', baseUrl: fake.url }).check({ content: TEXT }, { signal: never() }));
    expect(error.kind).toBe('auth');
    expect(error.message).not.toContain('sk-wrong-secret');
  });

  it('stops at the abort and closes the socket', async () => {
    fake.faults.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = provider().check({ content: TEXT }, { signal: controller.signal });
    const request = await fake.calls.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(request.finished).resolves.toBe('client-closed');
  });

  it('never exposes the key or the text in an error', async () => {
    const faults: ModerationFault[] = [
      { kind: 'rate-limit-exceeded' },
      { kind: 'insufficient-quota' },
      { kind: 'no-results' },
      { kind: 'status', status: 400 },
      { kind: 'html' },
      { kind: 'reset' },
    ];
    for (const fault of faults) {
      fake.faults.inject(fault);
      const error = await failure(provider().check({ content: TEXT }, { signal: never() }));
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
      for (const secret of [KEY, 'worthless', fake.url]) expect(exposed, `${fault.kind} exposes ${secret}`).not.toContain(secret);
    }
    expect(JSON.stringify(fake.calls.requests)).not.toContain(KEY);
  });
});

describe('moderation configuration', () => {
  it('names every wrong option without echoing the key', () => {
    let issues = '';
    try {
      moderation({ apiKey: 'two words', model: 'bad model!', categories: [], weight: 3, ttlMs: -5, maxBodyBytes: 0 });
    } catch (error) {
      if (isConfigurationError(error)) issues = error.issues.join('\n');
    }
    for (const key of ['apiKey', 'model', 'categories', 'weight', 'ttlMs', 'maxBodyBytes']) expect(issues).toContain(`moderation.${key}`);
    expect(issues).not.toContain('two words');
    expect(() => moderation({ apiKey: KEY, baseUrl: 'http://api.openai.com' })).toThrow(/moderation\.baseUrl/);
  });

  it('describes itself with documented defaults', () => {
    const described = moderation({ apiKey: KEY });
    expect(described).toMatchObject({ name: 'moderation', version: '1', facets: ['content'] });
    expect(described.defaults).toEqual(MODERATION_DEFAULTS);
  });
});
