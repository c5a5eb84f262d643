/**
 * A loopback OpenAI-compatible moderation endpoint: answers `POST /v1/moderations` in the
 * documented JSON shape from rules a test sets, sends `x-ratelimit-*-requests` headers,
 * and injects both kinds of 429 besides the standard faults.
 */
import { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';

/** The key the fake accepts unless told otherwise. */
export const FAKE_MODERATION_KEY = 'fake-moderation-key';

/** The categories of `omni-moderation-latest`. */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

/** Answers only an OpenAI-compatible service gives. */
export type ModerationSpecificFault =
  /** 429 `rate_limit_exceeded`, with `x-ratelimit-reset-requests` (default `6m0s`) and no `Retry-After`. */
  | { readonly kind: 'rate-limit-exceeded'; readonly resetRequests?: string }
  /** 429 `insufficient_quota`: the account is out of credit. */
  | { readonly kind: 'insufficient-quota' }
  /** 200 with an empty `results` array. */
  | { readonly kind: 'no-results' };

/** Every fault the moderation fake can inject. */
export type ModerationFault = HttpFault | ModerationSpecificFault;

/** One request body as the fake read it. */
export interface ModerationInput {
  readonly model: unknown;
  readonly input: unknown;
}

/** A running moderation fake. */
export interface ModerationFake extends FakeHttpServer<ModerationFault> {
  readonly apiKey: string;
  /** Bodies received, in order. */
  readonly inputs: readonly ModerationInput[];
  /**
   * Texts containing `textIncludes` (case-insensitive) get these category scores; a
   * category at or above 0.5 is flagged.
   */
  flag(textIncludes: string, scores: Readonly<Record<string, number>>): void;
  /** Forgets rules, faults, calls, inputs and the request counter. */
  reset(): void;
}

/** Options of {@link startFakeModeration}. */
export interface ModerationFakeOptions {
  readonly port?: number;
  /** Default {@link FAKE_MODERATION_KEY}. */
  readonly apiKey?: string;
  /** `x-ratelimit-limit-requests` (default 1000); `remaining` counts down from it per call. */
  readonly requestLimit?: number;
}

const BASELINE_SCORE = 0.0001;
const FLAG_AT = 0.5;

function openAiError(status: number, message: string, type: string, code: string | null, headers: Readonly<Record<string, string>> = {}): FakeAnswer {
  return jsonAnswer({ error: { message, type, param: null, code } }, status, headers);
}

function textOf(input: unknown): string | undefined {
  if (typeof input === 'string') return input;
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input.join('\n');
  return undefined;
}

/**
 * Starts a moderation fake on 127.0.0.1. Without a matching rule every category scores
 * 0.0001 and nothing is flagged. A wrong bearer key gets 401 `invalid_api_key`, a body
 * without `input` 400.
 *
 * @example
 * const fake = await startFakeModeration();
 * fake.flag('hate you', { harassment: 0.93, hate: 0.4 });
 * const provider = moderation({ apiKey: fake.apiKey, baseUrl: fake.url });
 * fake.faults.inject({ kind: 'insufficient-quota' }, { times: 1 });
 * await fake.close();
 */
export async function startFakeModeration(options: ModerationFakeOptions = {}): Promise<ModerationFake> {
  const apiKey = options.apiKey ?? FAKE_MODERATION_KEY;
  const limit = options.requestLimit ?? 1000;
  const rules: { textIncludes: string; scores: Readonly<Record<string, number>> }[] = [];
  const inputs: ModerationInput[] = [];
  let served = 0;

  function limitHeaders(remaining: number, reset: string): Record<string, string> {
    return {
      'x-ratelimit-limit-requests': String(limit),
      'x-ratelimit-remaining-requests': String(Math.max(0, remaining)),
      'x-ratelimit-reset-requests': reset,
    };
  }

  function result(text: string): Record<string, unknown> {
    const scores: Record<string, number> = Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, BASELINE_SCORE]));
    const lower = text.toLowerCase();
    for (const rule of rules) if (lower.includes(rule.textIncludes)) Object.assign(scores, rule.scores);
    const categories = Object.fromEntries(Object.entries(scores).map(([category, score]) => [category, score >= FLAG_AT]));
    return { flagged: Object.values(categories).some(Boolean), categories, category_scores: scores };
  }

  function handle(request: FakeRequest, fault: ModerationSpecificFault | undefined): FakeAnswer {
    if (request.url.pathname !== '/v1/moderations') return openAiError(404, 'Unknown request URL', 'invalid_request_error', 'unknown_url');
    if (request.method !== 'POST') return openAiError(405, 'Method not allowed', 'invalid_request_error', null);
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      return openAiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (fault?.kind === 'rate-limit-exceeded') {
      return openAiError(429, 'Rate limit reached for requests', 'requests', 'rate_limit_exceeded', limitHeaders(0, fault.resetRequests ?? '6m0s'));
    }
    if (fault?.kind === 'insufficient-quota') {
      return openAiError(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body) as unknown;
    } catch {
      return openAiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    }
    const { model, input } = (typeof body === 'object' && body !== null ? body : {}) as { model?: unknown; input?: unknown };
    inputs.push({ model, input });
    const text = textOf(input);
    if (text === undefined) return openAiError(400, "'input' is a required property", 'invalid_request_error', null);
    served += 1;
    const headers = limitHeaders(limit - served, '120ms');
    const results = fault?.kind === 'no-results' ? [] : [result(text)];
    return jsonAnswer({ id: `modr-${served}`, model: typeof model === 'string' ? model : 'omni-moderation-latest', results }, 200, headers);
  }

  const server = await startFakeHttpServer<ModerationSpecificFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    apiKey,
    inputs,
    flag(textIncludes, scores) {
      for (const [category, score] of Object.entries(scores)) {
        if (!(Number.isFinite(score) && score >= 0 && score <= 1)) throw new RangeError(`fake: score of ${category} must be from 0 to 1`);
      }
      rules.push({ textIncludes: textIncludes.toLowerCase(), scores: { ...scores } });
    },
    reset() {
      rules.length = 0;
      inputs.length = 0;
      served = 0;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
