/**
 * The part Turnstile and hCaptcha share: take the token from the submitted form, verify it
 * once with the service's siteverify endpoint, and score the outcome. A passed challenge
 * scores 0 and says so in `data.challenge`; a failed one scores `failedScore`; no token
 * at all is neutral (score 0, `data.challenge: 'absent'`), so the provider can sit on
 * every route and matter only where the form carries a widget.
 */
import { ConfigurationError } from '@formsecurity/core';
import type { AsyncProvider, ProviderResult, Subject } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { DEFAULT_MAX_BODY_BYTES, httpJson } from '../http.js';
import { keyValue, revealKey } from '../provider-options.js';
import type { KeyInput } from '../provider-options.js';
import { classifySiteverifyFailure, parseSiteverify } from './answer.js';
import type { SiteverifyAnswer } from './answer.js';

/** Options every challenge provider takes. `secret` is required. */
export interface ChallengeOptions {
  /** The widget's secret key. A secret: never in an error, a reason or `data`. A Secret is read per request, so it may rotate. */
  readonly secret: KeyInput;
  /** The form field holding the token (Turnstile `cf-turnstile-response`, hCaptcha `h-captcha-response`). */
  readonly field?: string;
  /** Provider name (default `turnstile` / `hcaptcha`). */
  readonly name?: string;
  /** The service's base URL (for a proxy or a fake). Must be https unless loopback or `allowInsecureHttp`. */
  readonly baseUrl?: string;
  readonly allowInsecureHttp?: boolean;
  /** Send the visitor's IP as `remoteip` (default true; both services use it against token theft). */
  readonly sendRemoteIp?: boolean;
  /** Hostnames the challenge must have been solved on; another one fails the challenge. */
  readonly hostnames?: readonly string[];
  /** Score of a failed challenge (default 1). */
  readonly failedScore?: number;
  /** How much a full score counts in the verdict (default 1). */
  readonly weight?: number;
  /** Largest body accepted (default 64 KiB). */
  readonly maxBodyBytes?: number;
}

/** What differs between services. */
export interface ChallengeService {
  readonly name: string;
  /** How reasons name the service, e.g. `Turnstile`. */
  readonly label: string;
  readonly option: string;
  readonly defaultBaseUrl: string;
  readonly path: string;
  readonly defaultField: string;
  /** Extra form fields (hCaptcha's `sitekey`). */
  readonly extraFields?: Readonly<Record<string, string>>;
  /** A service-specific check of a successful answer; a string is the reason it fails after all. */
  readonly rejectSuccess?: (answer: SiteverifyAnswer) => string | undefined;
}

// Turnstile documents tokens of up to 2048 characters; anything longer is not a token.
const MAX_TOKEN_LENGTH = 2048;

function validate(service: ChallengeService, options: ChallengeOptions): void {
  const issues: string[] = [];
  const option = service.option;
  const secret = keyValue(options.secret);
  if (typeof secret !== 'string' || !/^\S{1,500}$/.test(secret)) {
    issues.push(`${option}.secret: expected the secret key (a non-empty string without spaces)`);
  }
  if (options.field !== undefined && options.field.trim() === '') issues.push(`${option}.field: expected a form field name`);
  if (options.name !== undefined && options.name.trim() === '') issues.push(`${option}.name: expected a non-empty string`);
  if (options.hostnames !== undefined && (options.hostnames.length === 0 || options.hostnames.some((h) => typeof h !== 'string' || h === ''))) {
    issues.push(`${option}.hostnames: expected a non-empty list of hostnames`);
  }
  for (const key of ['failedScore', 'weight'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) issues.push(`${option}.${key}: expected a number from 0 to 1`);
  }
  if (options.maxBodyBytes !== undefined && !(Number.isInteger(options.maxBodyBytes) && options.maxBodyBytes > 0)) {
    issues.push(`${option}.maxBodyBytes: expected a positive integer`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

function passedData(answer: SiteverifyAnswer): Record<string, unknown> {
  return {
    challenge: 'passed',
    ...(answer.hostname === undefined ? {} : { hostname: answer.hostname }),
    ...(answer.challengeTs === undefined ? {} : { challengeTs: answer.challengeTs }),
    ...(answer.action === undefined ? {} : { action: answer.action }),
    ...(answer.riskScore === undefined ? {} : { riskScore: answer.riskScore }),
  };
}

/**
 * Builds a challenge-verification provider for one service (facets `['fields']`, no
 * defaults.ttlMs: a token verifies once, so an answer must never be cached or reused).
 *
 * @example
 * const friendlyCaptcha = challengeProvider(
 *   { name: 'friendly', label: 'Friendly Captcha', option: 'friendly', defaultBaseUrl: 'https://api.example', path: '/siteverify', defaultField: 'frc-captcha-solution' },
 *   { secret: process.env.FRIENDLY_SECRET! },
 * );
 */
export function challengeProvider(service: ChallengeService, options: ChallengeOptions): AsyncProvider {
  validate(service, options);
  const base = resolveEndpoint(options.baseUrl ?? service.defaultBaseUrl, {
    option: `${service.option}.baseUrl`,
    ...(options.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: options.allowInsecureHttp }),
  });
  const url = endpointUrl(base, service.path);
  const name = options.name ?? service.name;
  const field = options.field ?? service.defaultField;
  const failedScore = options.failedScore ?? 1;
  const hostnames = options.hostnames === undefined ? undefined : new Set(options.hostnames.map((h) => h.toLowerCase()));

  const failed = (why: string, errorCodes: readonly string[]): ProviderResult => ({
    score: failedScore,
    reasons: [`${service.label} challenge failed (${why})`],
    data: { challenge: 'failed', errorCodes },
  });

  async function check(subject: Subject, { signal }: { signal: AbortSignal }): Promise<ProviderResult> {
    const token = subject.fields?.[field]?.trim() ?? '';
    if (token === '') return { score: 0, reasons: [], data: { challenge: 'absent' } };
    if (token.length > MAX_TOKEN_LENGTH) return failed('the token is too long to be one', []);
    const form = new URLSearchParams({ secret: revealKey(options.secret), response: token, ...service.extraFields });
    if (options.sendRemoteIp !== false && subject.ip !== undefined) form.set('remoteip', subject.ip);
    const { body } = await httpJson({
      provider: name,
      url,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/json' },
      body: form,
      signal,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    });
    const answer = parseSiteverify(name, body);
    if (!answer.success) {
      const failure = classifySiteverifyFailure(name, answer.errorCodes);
      if (failure.kind === 'error') throw failure.error;
      return failed(failure.codes.length > 0 ? failure.codes.join(', ') : 'the token was not accepted', failure.codes);
    }
    if (hostnames !== undefined && !hostnames.has((answer.hostname ?? '').toLowerCase())) {
      return failed('solved on another hostname', []);
    }
    const rejection = service.rejectSuccess?.(answer);
    if (rejection !== undefined) return failed(rejection, []);
    return { score: 0, reasons: [`${service.label} challenge passed`], data: passedData(answer) };
  }

  return declareEndpoints(
    {
      name,
      version: '1',
      facets: ['fields'],
      defaults: { weight: options.weight ?? 1 },
      check,
    },
    [base],
  );
}
