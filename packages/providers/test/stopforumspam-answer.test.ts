import { isProviderResponseError } from '@formsecurity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStopForumSpamAnswer, scoreStopForumSpamAnswer } from '../src/index.js';
import type { StopForumSpamFacet } from '../src/index.js';

const ALL: readonly StopForumSpamFacet[] = ['ip', 'email', 'username'];

function kindOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isProviderResponseError(error) ? error.kind : `not a ProviderResponseError: ${String(error)}`;
  }
  return undefined;
}

describe('parseStopForumSpamAnswer', () => {
  it('reads the documented fields of each facet that was asked', () => {
    const answer = parseStopForumSpamAnswer(
      {
        success: 1,
        ip: { appears: 1, frequency: 255, lastseen: '2024-01-02 03:04:05', confidence: 99.95, torexit: 1 },
        email: { appears: 0, frequency: 0 },
        username: { appears: 1, frequency: 2, confidence: 12.5 },
        asn: 64500,
      },
      ALL,
    );
    expect(answer).toEqual({
      ip: { appears: true, frequency: 255, lastseen: '2024-01-02 03:04:05', confidence: 99.95, torexit: true },
      email: { appears: false, frequency: 0, torexit: false },
      username: { appears: true, frequency: 2, confidence: 12.5, torexit: false },
    });
  });

  it('finds the e-mail record under emailhash as well as email', () => {
    const answer = parseStopForumSpamAnswer({ success: 1, emailhash: { appears: 1, frequency: 4, confidence: 70 } }, ['email']);
    expect(answer.email?.confidence).toBe(70);
  });

  it('turns success 0 into a failure that does not repeat the service text', () => {
    let message = '';
    try {
      parseStopForumSpamAnswer({ success: 0, error: 'invalid ip 203.0.113.7' }, ['ip']);
    } catch (error) {
      message = (error as Error).message;
      expect(isProviderResponseError(error) && error.kind).toBe('invalid-input');
    }
    expect(message).not.toContain('203.0.113.7');
    expect(kindOf(() => parseStopForumSpamAnswer({ success: 0 }, ['ip']))).toBe('http');
  });

  it.each([
    ['not an object', [1, 2]],
    ['no success flag', { ip: { appears: 0, frequency: 0 } }],
    ['success as a string', { success: '1', ip: { appears: 0, frequency: 0 } }],
    ['asked facet missing', { success: 1 }],
    ['facet not an object', { success: 1, ip: 'yes' }],
    ['appears as a word', { success: 1, ip: { appears: 'yes', frequency: 1, confidence: 50 } }],
    ['frequency missing', { success: 1, ip: { appears: 0 } }],
    ['frequency negative', { success: 1, ip: { appears: 0, frequency: -1 } }],
    ['listed without confidence', { success: 1, ip: { appears: 1, frequency: 3 } }],
    ['confidence over 100', { success: 1, ip: { appears: 1, frequency: 3, confidence: 250 } }],
    ['confidence as a string', { success: 1, ip: { appears: 1, frequency: 3, confidence: '90' } }],
    ['lastseen as a number', { success: 1, ip: { appears: 1, frequency: 3, confidence: 9, lastseen: 20240101 } }],
    ['torexit as true', { success: 1, ip: { appears: 0, frequency: 0, torexit: true } }],
  ])('calls an answer with %s malformed', (_what, body) => {
    expect(kindOf(() => parseStopForumSpamAnswer(body, ['ip']))).toBe('malformed');
  });
});

describe('scoreStopForumSpamAnswer', () => {
  it('is 0 with no reasons when nothing appears', () => {
    expect(scoreStopForumSpamAnswer({ ip: { appears: false, frequency: 0, torexit: false } })).toEqual({
      score: 0,
      reasons: [],
      data: { ip: { appears: false, frequency: 0 } },
    });
  });

  it('passes upstream limits through', () => {
    const result = scoreStopForumSpamAnswer({}, { remaining: 3 });
    expect(result.upstream).toEqual({ remaining: 3 });
  });
});

// Bodies shaped like answers: mostly well-formed records, some with fields of any type, some
// arbitrary JSON, so the property reaches every field check and the success path as well.
const anyJson = fc.jsonValue();
const validRecord = fc.record(
  {
    appears: fc.constantFrom(0, 1),
    frequency: fc.nat(),
    confidence: fc.double({ min: 0, max: 100, noNaN: true }),
    lastseen: fc.string(),
    torexit: fc.constantFrom(0, 1),
  },
  { requiredKeys: ['appears', 'frequency'] },
);
const anyField = fc.oneof(fc.constantFrom(0, 1, -1, 100, 101, Number.MAX_SAFE_INTEGER), fc.double(), anyJson);
const looseRecord = fc.record(
  { appears: anyField, frequency: anyField, confidence: anyField, lastseen: anyField, torexit: anyField },
  { requiredKeys: [] },
);
const facetRecord = fc.oneof(
  { arbitrary: validRecord, weight: 6 },
  { arbitrary: looseRecord, weight: 1 },
  { arbitrary: anyJson, weight: 1 },
);
const answerLike = fc.record({
  success: fc.oneof({ arbitrary: fc.constant(1), weight: 8 }, { arbitrary: fc.constant(0), weight: 1 }, { arbitrary: anyJson, weight: 1 }),
  error: anyJson,
  ip: facetRecord,
  email: facetRecord,
  username: facetRecord,
});
const askedFacets = fc.subarray([...ALL], { minLength: 1 });

describe('parseStopForumSpamAnswer on arbitrary input', () => {
  it('either yields a valid answer or throws ProviderResponseError, nothing else', () => {
    const seen = { parsed: 0, listed: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(anyJson, answerLike), askedFacets, (body, asked) => {
        let answer;
        try {
          answer = parseStopForumSpamAnswer(body, asked);
        } catch (error) {
          expect(isProviderResponseError(error)).toBe(true);
          seen.refused++;
          return;
        }
        seen.parsed++;
        expect(Object.keys(answer).sort()).toEqual([...asked].sort());
        const result = scoreStopForumSpamAnswer(answer);
        expect(result.score).toBeGreaterThanOrEqual(0);
        expect(result.score).toBeLessThanOrEqual(1);
        for (const record of Object.values(answer)) {
          expect(Number.isFinite(record.frequency) && record.frequency >= 0).toBe(true);
          if (record.appears) {
            seen.listed++;
            expect(record.confidence).toBeTypeOf('number');
          }
        }
      }),
      { numRuns: 2000 },
    );
    // Both outcomes must actually have been exercised, or the property proves nothing.
    expect(seen.parsed).toBeGreaterThan(100);
    expect(seen.listed).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(100);
  });
});
