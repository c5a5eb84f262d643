/**
 * The moderation provider: asks an OpenAI-compatible `/v1/moderations` endpoint how
 * harmful a message's text is (harassment, hate, illicit, self-harm, sexual, violence, …).
 */
import { ConfigurationError } from '@formsecurity/core';
import type { AsyncProvider, ProviderDefaults, ProviderResult } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { DEFAULT_MAX_BODY_BYTES, httpRequest } from '../http.js';
import { keyValue, revealKey } from '../provider-options.js';
import type { KeyInput } from '../provider-options.js';
import { isEmptyLimits } from '../upstream-limits.js';
import { moderationFailure, parseModerationAnswer } from './answer.js';
import type { ModerationResult } from './answer.js';
import { readModerationLimits } from './rate-limits.js';

/** Options of {@link moderation}. `apiKey` is required. */
export interface ModerationOptions {
  /** Bearer token. A secret: never in an error, a reason or `data`. A Secret is read per request, so it may rotate. */
  readonly apiKey: KeyInput;
  /** Default `https://api.openai.com`; any compatible server (the path `/v1/moderations` is appended). */
  readonly baseUrl?: string;
  readonly allowInsecureHttp?: boolean;
  /** Default `omni-moderation-latest`. */
  readonly model?: string;
  /** Provider name (default `moderation`). */
  readonly name?: string;
  /** Categories that count towards the score (default: all the model reports). */
  readonly categories?: readonly string[];
  /**
   * Turns a result into the score, replacing the default (the highest score among the
   * counted categories). Must return a number from 0 to 1.
   */
  readonly score?: (result: ModerationResult) => number;
  /** How much a full score counts in the verdict (default {@link MODERATION_DEFAULTS}.weight). */
  readonly weight?: number;
  /** How long an answer stays fresh in the cache (default 24 hours: the same text gets the same answer). */
  readonly ttlMs?: number;
  /** Largest body accepted (default 64 KiB). */
  readonly maxBodyBytes?: number;
}

/**
 * Defaults: `weight` 0.7 — the model judges harm, not spam, so a high score alone reaches
 * `challenge` rather than `block`; `ttlMs` 24 hours.
 */
export const MODERATION_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 0.7, ttlMs: 24 * 60 * 60 * 1000 };

const DEFAULT_BASE_URL = 'https://api.openai.com';
const DEFAULT_MODEL = 'omni-moderation-latest';
const OPTION = 'moderation';
const TOP_CATEGORIES = 3;

function validate(options: ModerationOptions): void {
  const issues: string[] = [];
  const apiKey = keyValue(options.apiKey);
  if (typeof apiKey !== 'string' || !/^\S{1,500}$/.test(apiKey)) {
    issues.push(`${OPTION}.apiKey: expected the API key (a non-empty string without spaces)`);
  }
  if (options.model !== undefined && !/^[\w.:/-]{1,100}$/.test(options.model)) issues.push(`${OPTION}.model: expected a model name`);
  if (options.name !== undefined && options.name.trim() === '') issues.push(`${OPTION}.name: expected a non-empty string`);
  if (options.categories !== undefined && (options.categories.length === 0 || options.categories.some((c) => typeof c !== 'string' || c === ''))) {
    issues.push(`${OPTION}.categories: expected a non-empty list of category names`);
  }
  if (options.score !== undefined && typeof options.score !== 'function') issues.push(`${OPTION}.score: expected a function`);
  if (options.weight !== undefined && !(Number.isFinite(options.weight) && options.weight >= 0 && options.weight <= 1)) {
    issues.push(`${OPTION}.weight: expected a number from 0 to 1`);
  }
  if (options.ttlMs !== undefined && !(Number.isFinite(options.ttlMs) && options.ttlMs > 0)) {
    issues.push(`${OPTION}.ttlMs: expected a positive number of milliseconds`);
  }
  if (options.maxBodyBytes !== undefined && !(Number.isInteger(options.maxBodyBytes) && options.maxBodyBytes > 0)) {
    issues.push(`${OPTION}.maxBodyBytes: expected a positive integer`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/** The counted categories' scores, highest first. */
function ranked(result: ModerationResult, counted: ReadonlySet<string> | undefined): [string, number][] {
  return Object.entries(result.categoryScores)
    .filter(([category]) => counted === undefined || counted.has(category))
    .sort((a, b) => b[1] - a[1]);
}

/**
 * Creates the moderation provider (facets `['content']`).
 *
 * Sends `POST <baseUrl>/v1/moderations` with `Authorization: Bearer <key>` and
 * `{ model, input: subject.content }`. Score: the highest `category_scores` value among the
 * counted categories (or `options.score(result)`). Reasons: the flagged counted categories.
 * `data`: `{ flagged, flaggedCategories, top: [{ category, score }] (3 highest), model? }` —
 * never the text. Errors: 401 → `auth`; 429 `insufficient_quota` → `quota-exceeded`;
 * other 429 → `rate-limited` with `retryAfterMs` from `Retry-After` or
 * `x-ratelimit-reset-requests`. `x-ratelimit-remaining-requests` / `-reset-requests` are
 * passed on as `upstream`.
 *
 * @example
 * const provider = moderation({ apiKey: process.env.OPENAI_API_KEY!, categories: ['harassment', 'hate', 'illicit'] });
 * const result = await provider.check({ content: 'some text' }, { signal });
 */
export function moderation(options: ModerationOptions): AsyncProvider {
  validate(options);
  const base = resolveEndpoint(options.baseUrl ?? DEFAULT_BASE_URL, {
    option: `${OPTION}.baseUrl`,
    ...(options.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: options.allowInsecureHttp }),
  });
  const url = endpointUrl(base, '/v1/moderations');
  const name = options.name ?? 'moderation';
  const counted = options.categories === undefined ? undefined : new Set(options.categories);

  function scoreOf(result: ModerationResult, top: readonly [string, number][]): number {
    return options.score === undefined ? (top[0]?.[1] ?? 0) : options.score(result);
  }

  return declareEndpoints({
    name,
    version: '1',
    facets: ['content'],
    defaults: { weight: options.weight ?? MODERATION_DEFAULTS.weight, ttlMs: options.ttlMs ?? MODERATION_DEFAULTS.ttlMs },
    async check(subject, { signal }): Promise<ProviderResult> {
      if (subject.content === undefined || subject.content.trim() === '') return { score: 0, reasons: [] };
      const answer = await httpRequest({
        provider: name,
        url,
        method: 'POST',
        headers: { authorization: `Bearer ${revealKey(options.apiKey)}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ model: options.model ?? DEFAULT_MODEL, input: subject.content }),
        signal,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      });
      const nowMs = Date.now();
      const upstream = readModerationLimits(answer.headers, nowMs, answer.status === 429);
      const failure = moderationFailure(name, answer, upstream, nowMs);
      if (failure !== undefined) throw failure;
      const result = parseModerationAnswer(name, answer);
      const top = ranked(result, counted);
      const flaggedCategories = Object.entries(result.categories)
        .filter(([category, flagged]) => flagged && (counted === undefined || counted.has(category)))
        .map(([category]) => category);
      return {
        score: scoreOf(result, top),
        reasons: flaggedCategories.length > 0 ? [`Moderation flagged the text: ${flaggedCategories.join(', ')}`] : [],
        data: {
          flagged: result.flagged,
          flaggedCategories,
          top: top.slice(0, TOP_CATEGORIES).map(([category, score]) => ({ category, score })),
          ...(result.model === undefined ? {} : { model: result.model }),
        },
        ...(isEmptyLimits(upstream) ? {} : { upstream }),
      };
    },
  }, [base]);
}
