/**
 * Reading a StopForumSpam JSON answer defensively, and turning it into a score.
 * The body is untrusted input: every field is checked for presence and type, and
 * whatever does not fit the documented shape is `ProviderResponseError('malformed')`.
 */
import { ProviderResponseError } from '@formsecurity/core';
import type { ProviderResult, UpstreamLimits } from '@formsecurity/core';

/** The subject facets StopForumSpam knows about. */
export type StopForumSpamFacet = 'ip' | 'email' | 'username';

/** What StopForumSpam says about one facet. */
export interface StopForumSpamRecord {
  readonly appears: boolean;
  /** How many times it was reported. */
  readonly frequency: number;
  /** 0..100, present when it appears. */
  readonly confidence?: number;
  /** `YYYY-MM-DD hh:mm:ss`, as the service writes it. */
  readonly lastseen?: string;
  /** Only ever true for an IP that is a Tor exit node. */
  readonly torexit: boolean;
}

/** The parsed answer: one record per facet that was asked about. */
export type StopForumSpamAnswer = Partial<Record<StopForumSpamFacet, StopForumSpamRecord>>;

const FACET_LABELS: Record<StopForumSpamFacet, string> = {
  ip: 'IP',
  email: 'E-mail address',
  username: 'Username',
};

// Asked by hash, the e-mail's record may come back under "emailhash" (unverified): accept both.
const RESPONSE_KEYS: Record<StopForumSpamFacet, readonly string[]> = {
  ip: ['ip'],
  email: ['emailhash', 'email'],
  username: ['username'],
};

type JsonObject = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function malformed(provider: string, what: string): ProviderResponseError {
  return new ProviderResponseError('malformed', `${provider}: ${what}`);
}

function readFlag(provider: string, record: JsonObject, field: string, facet: StopForumSpamFacet): boolean {
  const value = record[field];
  if (value === undefined && field === 'torexit') return false;
  if (value === 0 || value === 1) return value === 1;
  throw malformed(provider, `${facet}.${field} is not 0 or 1`);
}

function readNumber(provider: string, value: unknown, where: string, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw malformed(provider, `${where} is not a number from 0 to ${max}`);
  }
  return value;
}

function readRecord(provider: string, facet: StopForumSpamFacet, value: unknown): StopForumSpamRecord {
  if (!isObject(value)) throw malformed(provider, `${facet} is missing or not an object`);
  const appears = readFlag(provider, value, 'appears', facet);
  const frequency = readNumber(provider, value['frequency'], `${facet}.frequency`, Number.MAX_SAFE_INTEGER);
  const torexit = readFlag(provider, value, 'torexit', facet);
  // A listing without its confidence cannot be scored; an unlisted facet has none.
  const confidence =
    appears || value['confidence'] !== undefined
      ? readNumber(provider, value['confidence'], `${facet}.confidence`, 100)
      : undefined;
  const lastseen = value['lastseen'];
  if (lastseen !== undefined && typeof lastseen !== 'string') {
    throw malformed(provider, `${facet}.lastseen is not a string`);
  }
  return {
    appears,
    frequency,
    torexit,
    ...(confidence === undefined ? {} : { confidence }),
    ...(lastseen === undefined ? {} : { lastseen }),
  };
}

/**
 * Parses a StopForumSpam JSON body for the facets that were asked about. `success: 0`
 * becomes `ProviderResponseError` (`invalid-input` when the service calls the request
 * invalid, else `http`); any shape other than the documented one is `malformed`. The
 * service's own error text is not repeated: it may quote the query.
 *
 * @example
 * const answer = parseStopForumSpamAnswer(
 *   { success: 1, ip: { appears: 1, frequency: 12, confidence: 87.5, lastseen: '2024-05-01 10:00:00' } },
 *   ['ip'],
 * );
 * answer.ip?.confidence; // 87.5
 */
export function parseStopForumSpamAnswer(
  body: unknown,
  asked: readonly StopForumSpamFacet[],
  provider = 'stopforumspam',
): StopForumSpamAnswer {
  if (!isObject(body)) throw malformed(provider, 'answer is not a JSON object');
  if (body['success'] === 0) {
    const error = body['error'];
    const invalid = typeof error === 'string' && /invalid/i.test(error);
    throw new ProviderResponseError(
      invalid ? 'invalid-input' : 'http',
      `${provider}: the service reported a failure (success 0)`,
    );
  }
  if (body['success'] !== 1) throw malformed(provider, 'answer has no success flag');
  const answer: Partial<Record<StopForumSpamFacet, StopForumSpamRecord>> = {};
  for (const facet of asked) {
    const key = RESPONSE_KEYS[facet].find((candidate) => body[candidate] !== undefined);
    answer[facet] = readRecord(provider, facet, key === undefined ? undefined : body[key]);
  }
  return answer;
}

function timesSeen(frequency: number): string {
  return frequency === 1 ? 'seen once' : `seen ${frequency} times`;
}

/**
 * Scores a parsed answer: the highest `confidence / 100` over the facets that appear
 * (0 when none does). A Tor exit node is reported as a reason and in `data.ip.torexit`
 * but does not raise the score: Tor users are not abusive by themselves, and a policy
 * that wants to treat them so can read the flag.
 *
 * @example
 * scoreStopForumSpamAnswer({ ip: { appears: true, frequency: 12, confidence: 87, torexit: false } });
 * // { score: 0.87, reasons: ['IP listed on StopForumSpam (confidence 87%, seen 12 times)'], data: { ip: {...} } }
 */
export function scoreStopForumSpamAnswer(answer: StopForumSpamAnswer, upstream?: UpstreamLimits): ProviderResult {
  let score = 0;
  const reasons: string[] = [];
  const data: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const facet of ['ip', 'email', 'username'] as const) {
    const record = answer[facet];
    if (record === undefined) continue;
    data[facet] = {
      appears: record.appears,
      frequency: record.frequency,
      ...(record.confidence === undefined ? {} : { confidence: record.confidence }),
      ...(record.lastseen === undefined ? {} : { lastseen: record.lastseen }),
      ...(record.torexit ? { torexit: true } : {}),
    };
    if (record.appears && record.confidence !== undefined) {
      score = Math.max(score, record.confidence / 100);
      reasons.push(
        `${FACET_LABELS[facet]} listed on StopForumSpam ` +
          `(confidence ${Math.round(record.confidence)}%, ${timesSeen(record.frequency)})`,
      );
    }
    if (record.torexit) reasons.push('IP is a Tor exit node (StopForumSpam)');
  }
  return {
    score,
    reasons,
    data,
    ...(upstream === undefined ? {} : { upstream }),
  };
}
