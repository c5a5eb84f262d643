/**
 * Reading an OpenAI-compatible moderation answer, defensively, and its error bodies.
 * 429 means two different things there: `rate_limit_exceeded` (wait, then retry) and
 * `insufficient_quota` (stop until the account is topped up).
 */
import { ProviderResponseError } from '@formsecurity/core';
import type { UpstreamLimits } from '@formsecurity/core';
import { classifyStatus, isJsonContentType, parseJsonBody } from '../http.js';
import type { HttpAnswer } from '../http.js';

/** One moderation result: what the model flagged and how sure it is per category. */
export interface ModerationResult {
  readonly flagged: boolean;
  /** Category → whether the model flagged it. */
  readonly categories: Readonly<Record<string, boolean>>;
  /** Category → the model's confidence, 0..1. */
  readonly categoryScores: Readonly<Record<string, number>>;
  /** The model that answered, when the service said. */
  readonly model?: string;
}

type JsonObject = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function malformed(provider: string, what: string): ProviderResponseError {
  return new ProviderResponseError('malformed', `${provider}: ${what}`);
}

/** The `error.code` (or `error.type`) of an OpenAI error body, when it is one. */
function errorCodeOf(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  const error = isObject(body) ? body['error'] : undefined;
  if (!isObject(error)) return undefined;
  for (const field of ['code', 'type']) {
    const value = error[field];
    if (typeof value === 'string' && /^[a-z_]{1,60}$/.test(value)) return value;
  }
  return undefined;
}

/**
 * The error a non-2xx moderation answer stands for. A 429 whose body says
 * `insufficient_quota` is `quota-exceeded`; any other 429 is `rate-limited` with the
 * upstream's retry delay. The service's message is never repeated (it may quote the input).
 *
 * @example
 * const failure = moderationFailure('moderation', answer, readModerationLimits(answer.headers, now, answer.status === 429), now);
 * if (failure !== undefined) throw failure; // e.g. kind 'quota-exceeded' for insufficient_quota
 */
export function moderationFailure(provider: string, answer: HttpAnswer, limits: UpstreamLimits, nowMs: number): ProviderResponseError | undefined {
  if (answer.status === 429) {
    const code = errorCodeOf(answer.text);
    if (code === 'insufficient_quota') {
      return new ProviderResponseError('quota-exceeded', `${provider}: the account has no quota left (insufficient_quota)`, { status: 429 });
    }
    return new ProviderResponseError('rate-limited', `${provider}: rate limited (HTTP 429${code === undefined ? '' : `, ${code}`})`, {
      status: 429,
      ...(limits.retryAfterMs === undefined ? {} : { retryAfterMs: limits.retryAfterMs }),
    });
  }
  return classifyStatus(provider, answer.status, answer.headers, nowMs);
}

function readScores(provider: string, value: unknown): Record<string, number> {
  if (!isObject(value)) throw malformed(provider, 'category_scores is missing or not an object');
  const scores: Record<string, number> = {};
  for (const [category, score] of Object.entries(value)) {
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
      throw malformed(provider, 'a category score is not a number from 0 to 1');
    }
    scores[category] = score;
  }
  return scores;
}

function readFlags(provider: string, value: unknown): Record<string, boolean> {
  // Compatible servers may leave the per-category flags out; scores alone still score.
  if (value === undefined) return {};
  if (!isObject(value)) throw malformed(provider, 'categories is not an object');
  const flags: Record<string, boolean> = {};
  for (const [category, flag] of Object.entries(value)) {
    if (typeof flag !== 'boolean') throw malformed(provider, 'a category flag is not true or false');
    flags[category] = flag;
  }
  return flags;
}

/**
 * Parses a 2xx moderation answer: the first of `results`, checked field by field.
 *
 * @example
 * parseModerationAnswer('moderation', answer);
 * // { flagged: true, categories: { harassment: true, ... }, categoryScores: { harassment: 0.91, ... }, model: 'omni-moderation-latest' }
 */
export function parseModerationAnswer(provider: string, answer: HttpAnswer): ModerationResult {
  if (!isJsonContentType(answer.headers.get('content-type'))) {
    throw new ProviderResponseError('malformed', `${provider}: answer is not JSON (wrong content type)`, { status: answer.status });
  }
  const body = parseJsonBody(provider, answer.text);
  if (!isObject(body)) throw malformed(provider, 'answer is not a JSON object');
  const results = body['results'];
  if (!Array.isArray(results) || results.length === 0) throw malformed(provider, 'results is missing or empty');
  const first: unknown = results[0];
  if (!isObject(first)) throw malformed(provider, 'a result is not an object');
  if (typeof first['flagged'] !== 'boolean') throw malformed(provider, 'flagged is not true or false');
  const model = body['model'];
  return {
    flagged: first['flagged'],
    categories: readFlags(provider, first['categories']),
    categoryScores: readScores(provider, first['category_scores']),
    ...(typeof model === 'string' && model.length <= 100 ? { model } : {}),
  };
}
