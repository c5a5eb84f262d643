import { isConfigurationError } from '@formsecurity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueFormTimestamp, minimumFillTime, verifyFormTimestamp } from '../src/local/fill-time.js';
import type { MinimumFillTimeOptions } from '../src/local/fill-time.js';
import { honeypot } from '../src/local/honeypot.js';

const never = (): AbortSignal => new AbortController().signal;
const SECRET = 'a-long-form-signing-secret-0123456789';
const T0 = Date.parse('2025-03-01T12:00:00Z');

function issuesOf(create: () => unknown): string {
  try {
    create();
  } catch (error) {
    if (isConfigurationError(error)) return error.issues.join('\n');
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('honeypot', () => {
  const trap = honeypot({ field: 'website' });

  it('scores a filled field 1 without repeating its value', async () => {
    const result = await trap.check({ fields: { website: 'http://spam.example/buy' } }, { signal: never() });
    expect(result).toEqual({ score: 1, reasons: ['honeypot field "website" was filled in'], data: { honeypot: 'filled' } });
  });

  it('scores an empty or whitespace field 0, and a missing one missingScore', async () => {
    expect(await trap.check({ fields: { website: '  ' } }, { signal: never() })).toEqual({ score: 0, reasons: [], data: { honeypot: 'empty' } });
    expect(await trap.check({ fields: { name: 'Ann' } }, { signal: never() })).toEqual({ score: 0, reasons: [], data: { honeypot: 'missing' } });
    const strict = honeypot({ field: 'website', missingScore: 0.5, score: 0.9, name: 'trap' });
    expect(await strict.check({ fields: {} }, { signal: never() })).toMatchObject({ score: 0.5, data: { honeypot: 'missing' } });
    expect(await strict.check({ fields: { website: 'x' } }, { signal: never() })).toMatchObject({ score: 0.9 });
  });

  it('is local, looks at fields, and names wrong options', () => {
    expect(trap).toMatchObject({ name: 'honeypot', local: true, facets: ['fields'] });
    const issues = issuesOf(() => honeypot({ field: '', score: 2, missingScore: -1 }));
    for (const key of ['field', 'score', 'missingScore']) expect(issues).toContain(`honeypot.${key}`);
  });
});

describe('form timestamps', () => {
  it('verifies its own tokens by age: too fast, ok, expired', () => {
    const token = issueFormTimestamp(SECRET, { now: T0, form: 'contact' });
    const at = (ms: number) => verifyFormTimestamp(token, { secret: SECRET, form: 'contact', minMs: 3000, maxAgeMs: 60_000, now: T0 + ms });
    expect(at(1000)).toEqual({ outcome: 'too-fast', elapsedMs: 1000 });
    expect(at(5000)).toEqual({ outcome: 'ok', elapsedMs: 5000 });
    expect(at(60_001)).toEqual({ outcome: 'expired', elapsedMs: 60_001 });
    expect(at(-10_000)).toEqual({ outcome: 'too-fast', elapsedMs: -10_000 });
  });

  it('calls a token tampered when the time, the form or the secret differ', () => {
    const token = issueFormTimestamp(SECRET, { now: T0, form: 'contact' });
    const verify = (candidate: string, secret: string | string[] = SECRET, form = 'contact') =>
      verifyFormTimestamp(candidate, { secret, form, minMs: 0, maxAgeMs: 1e12, now: T0 + 10_000 }).outcome;
    const [version, time, signature] = token.split('.') as [string, string, string];
    const earlier = (parseInt(time, 36) - 60_000).toString(36);
    expect(verify(`${version}.${earlier}.${signature}`)).toBe('tampered');
    expect(verify(token, SECRET, 'signup')).toBe('tampered');
    expect(verify(token, 'another-secret-of-enough-length')).toBe('tampered');
    expect(verify(`${version}.${time}.${signature.slice(0, -2)}AA`)).toBe('tampered');
    expect(verify('not a token')).toBe('tampered');
    expect(verify(token, ['new-secret-after-rotation!!', SECRET])).toBe('ok');
    expect(verifyFormTimestamp('  ', { secret: SECRET, minMs: 0, maxAgeMs: 1, now: T0 }).outcome).toBe('missing');
  });

  it('accepts no token but its own (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (candidate) => {
        const outcome = verifyFormTimestamp(candidate, { secret: SECRET, minMs: 0, maxAgeMs: 1e15, now: T0 }).outcome;
        return outcome === 'tampered' || outcome === 'missing';
      }),
    );
  });

  it('refuses a short secret without echoing it', () => {
    const issues = issuesOf(() => issueFormTimestamp('short-secret'));
    expect(issues).toContain('minimumFillTime.secret');
    expect(issues).not.toContain('short-secret');
  });
});

describe('minimumFillTime', () => {
  let clock = T0;
  const trap = (options: Partial<MinimumFillTimeOptions> = {}) =>
    minimumFillTime({ secret: SECRET, form: 'contact', minMs: 3000, maxAgeMs: 3_600_000, now: () => clock, ...options });
  const submit = (token: string | undefined, provider = trap()) =>
    provider.check({ fields: token === undefined ? { name: 'Ann' } : { 'fs-timestamp': token } }, { signal: never() });

  it('scores each outcome with its documented default', async () => {
    clock = T0;
    const token = issueFormTimestamp(SECRET, { now: T0, form: 'contact' });
    clock = T0 + 1200;
    expect(await submit(token)).toEqual({
      score: 1,
      reasons: ['form was submitted faster than a person can fill it'],
      data: { fillTime: 'too-fast', elapsedMs: 1200 },
    });
    clock = T0 + 8000;
    expect(await submit(token)).toEqual({ score: 0, reasons: [], data: { fillTime: 'ok', elapsedMs: 8000 } });
    clock = T0 + 3_600_001;
    expect(await submit(token)).toMatchObject({ score: 0.3, data: { fillTime: 'expired' } });
    expect(await submit(undefined)).toEqual({ score: 0.6, reasons: ['form timestamp is missing'], data: { fillTime: 'missing' } });
    expect(await submit('v1.abc.forged')).toEqual({ score: 1, reasons: ['form timestamp is not genuine'], data: { fillTime: 'tampered' } });
  });

  it('takes configured scores and field, and keeps the secret out of results', async () => {
    clock = T0 + 500;
    const token = issueFormTimestamp(SECRET, { now: T0, form: 'contact' });
    const lenient = trap({ tooFastScore: 0.4, missingScore: 0, field: 'ts' });
    const result = await lenient.check({ fields: { ts: token } }, { signal: never() });
    expect(result.score).toBe(0.4);
    expect(await lenient.check({ fields: {} }, { signal: never() })).toEqual({ score: 0, reasons: [], data: { fillTime: 'missing' } });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('is local, looks at fields, and names every wrong option', () => {
    expect(trap()).toMatchObject({ name: 'fill-time', local: true, facets: ['fields'] });
    const issues = issuesOf(() => minimumFillTime({ secret: ['ok-length-secret-1234', 'tiny'], minMs: -1, maxAgeMs: 0, tamperedScore: 3, field: '' }));
    for (const key of ['secret', 'minMs', 'maxAgeMs', 'tamperedScore', 'field']) expect(issues).toContain(`minimumFillTime.${key}`);
    expect(issues).not.toContain('tiny');
  });
});
