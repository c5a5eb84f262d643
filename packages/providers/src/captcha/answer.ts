/**
 * Reading a siteverify answer (Turnstile, hCaptcha): `{ success, "error-codes", challenge_ts,
 * hostname, ... }`. Error codes split three ways: the visitor's token is bad (a failed
 * challenge — a score, not an error), our configuration is bad (`auth`), or the service
 * itself failed (`http`).
 */
import { ProviderResponseError } from '@formsecurity/core';

/** What siteverify said, checked field by field. */
export interface SiteverifyAnswer {
  readonly success: boolean;
  readonly errorCodes: readonly string[];
  readonly hostname?: string;
  /** ISO timestamp of when the challenge was solved. */
  readonly challengeTs?: string;
  /** Turnstile: the widget's `action`. */
  readonly action?: string;
  /** hCaptcha Enterprise: a risk score, 0 (human) .. 1 (bot). */
  readonly riskScore?: number;
}

/** How a failed verification is read. */
export type SiteverifyFailure =
  | { readonly kind: 'token'; readonly codes: readonly string[] }
  | { readonly kind: 'error'; readonly error: ProviderResponseError };

// The visitor's token was missing, wrong, spent or expired: the challenge failed.
const TOKEN_CODES: ReadonlySet<string> = new Set([
  'missing-input-response',
  'invalid-input-response',
  'timeout-or-duplicate',
  'expired-input-response',
  'already-seen-response',
  'invalid-or-already-seen-response',
]);
// The secret or site key is wrong: an operator's mistake.
const AUTH_CODES: ReadonlySet<string> = new Set([
  'missing-input-secret',
  'invalid-input-secret',
  'sitekey-secret-mismatch',
  'invalid-sitekey',
  'not-using-dummy-passcode',
]);
// The request was wrong in a way the subject caused (its IP).
const INPUT_CODES: ReadonlySet<string> = new Set(['bad-request', 'missing-remoteip', 'invalid-remoteip']);

const CODE_SHAPE = /^[a-z0-9-]{1,60}$/;

type JsonObject = Readonly<Record<string, unknown>>;
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function malformed(provider: string, what: string): ProviderResponseError {
  return new ProviderResponseError('malformed', `${provider}: ${what}`);
}

function optionalString(provider: string, body: JsonObject, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw malformed(provider, `${field} is not a string`);
  return value.slice(0, 255);
}

/**
 * Parses a siteverify JSON body.
 *
 * @example
 * parseSiteverify('turnstile', { success: false, 'error-codes': ['timeout-or-duplicate'] });
 * // { success: false, errorCodes: ['timeout-or-duplicate'] }
 */
export function parseSiteverify(provider: string, body: unknown): SiteverifyAnswer {
  if (!isObject(body)) throw malformed(provider, 'answer is not a JSON object');
  const success = body['success'];
  if (typeof success !== 'boolean') throw malformed(provider, 'success is not true or false');
  const codes = body['error-codes'] ?? [];
  if (!Array.isArray(codes) || !codes.every((code) => typeof code === 'string')) {
    throw malformed(provider, 'error-codes is not a list of strings');
  }
  const score = body['score'];
  const hostname = optionalString(provider, body, 'hostname');
  const challengeTs = optionalString(provider, body, 'challenge_ts');
  const action = optionalString(provider, body, 'action');
  return {
    success,
    // Codes are fixed tokens; anything else is not repeated.
    errorCodes: codes.filter((code) => CODE_SHAPE.test(code)),
    ...(hostname === undefined ? {} : { hostname }),
    ...(challengeTs === undefined ? {} : { challengeTs }),
    ...(action === undefined ? {} : { action }),
    ...(typeof score === 'number' && Number.isFinite(score) && score >= 0 && score <= 1 ? { riskScore: score } : {}),
  };
}

/**
 * Reads an unsuccessful verification. A configuration code anywhere wins (`auth`), then the
 * subject's (`invalid-input`), then `internal-error` (`http`); token codes — or no code at
 * all — mean the challenge failed. Codes nobody documented are an `http` error rather than
 * a failed challenge, so an unknown service-side fault never blocks a visitor.
 *
 * @example
 * classifySiteverifyFailure('hcaptcha', ['invalid-input-secret']); // { kind: 'error', error: ProviderResponseError('auth') }
 */
export function classifySiteverifyFailure(provider: string, codes: readonly string[]): SiteverifyFailure {
  const auth = codes.filter((code) => AUTH_CODES.has(code));
  if (auth.length > 0) {
    return { kind: 'error', error: new ProviderResponseError('auth', `${provider}: the secret or site key was refused (${auth.join(', ')})`) };
  }
  const input = codes.filter((code) => INPUT_CODES.has(code));
  if (input.length > 0) {
    return { kind: 'error', error: new ProviderResponseError('invalid-input', `${provider}: the request was refused (${input.join(', ')})`) };
  }
  const token = codes.filter((code) => TOKEN_CODES.has(code));
  if (token.length > 0 || codes.length === 0) return { kind: 'token', codes: token };
  const shown = codes.slice(0, 3).join(', ');
  return { kind: 'error', error: new ProviderResponseError('http', `${provider}: verification failed on the service's side (${shown})`) };
}
