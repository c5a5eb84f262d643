/**
 * The time trap: the form carries a signed timestamp of when it was rendered, and a
 * submission that comes back faster than a person can type — or with the timestamp
 * missing, forged or very old — scores as a bot. Local: never degrades, needs no store.
 *
 * Token: `v1.<issued-at, epoch ms in base 36>.<HMAC-SHA256 in base64url>`, the HMAC over
 * the version, the time and the form name, so a token cannot be moved to a form with a
 * shorter minimum. It does not stop replay within `maxAgeMs` (that would need a store).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '@formsecurity/core';
import type { AsyncProvider, ProviderResult } from '@formsecurity/core';

const VERSION = 'v1';
const MIN_SECRET_LENGTH = 16;
const OPTION = 'minimumFillTime';
const TOKEN = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;

/** What a token says about the submission. */
export type FillTimeOutcome = 'ok' | 'missing' | 'tampered' | 'too-fast' | 'expired';

/** Options of {@link issueFormTimestamp}. */
export interface IssueFormTimestampOptions {
  /** The form the token is for (default `''`); the check must name the same form. */
  readonly form?: string;
  /** Issue time in epoch milliseconds (default now). */
  readonly now?: number;
}

/** Options of {@link minimumFillTime}. `secret` is required. */
export interface MinimumFillTimeOptions {
  /**
   * The HMAC key, at least 16 characters (32 random bytes recommended); a list during a
   * rotation: tokens signed with any of them verify. A secret: never in a reason or `data`.
   */
  readonly secret: string | readonly string[];
  /** The form field carrying the token (default `fs-timestamp`). */
  readonly field?: string;
  /** The form name the tokens were issued for (default `''`). */
  readonly form?: string;
  /** Fastest believable fill time in milliseconds (default 3000). */
  readonly minMs?: number;
  /** Oldest accepted token in milliseconds (default 24 hours). */
  readonly maxAgeMs?: number;
  /** Provider name (default `fill-time`). */
  readonly name?: string;
  /** Score when the field is missing or empty (default 0.6: a page rendered before the trap existed should not block). */
  readonly missingScore?: number;
  /** Score of a token that is not one of ours (default 1). */
  readonly tamperedScore?: number;
  /** Score of a submission faster than `minMs` (default 1). */
  readonly tooFastScore?: number;
  /** Score of a token older than `maxAgeMs` (default 0.3: a tab left open overnight is not a bot). */
  readonly expiredScore?: number;
  /** The clock, epoch milliseconds (default `Date.now`); tests pass their own. */
  readonly now?: () => number;
}

function secretsOf(secret: string | readonly string[]): readonly string[] {
  return typeof secret === 'string' ? [secret] : secret;
}

function checkSecrets(secret: unknown, issues: string[]): void {
  const secrets = typeof secret === 'string' ? [secret] : Array.isArray(secret) ? secret : [];
  // Say what is wrong, never what the secret is.
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < MIN_SECRET_LENGTH)) {
    issues.push(`${OPTION}.secret: expected a string of at least ${MIN_SECRET_LENGTH} characters (or a non-empty list of them)`);
  }
}

function mac(secret: string, issuedAt36: string, form: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}.${issuedAt36}.${form}`).digest();
}

/**
 * Issues the token to put in the form's hidden field when the form is rendered.
 *
 * @example
 * // <input type="hidden" name="fs-timestamp" value="${issueFormTimestamp(process.env.FORM_SECRET!, { form: 'contact' })}">
 * const token = issueFormTimestamp(process.env.FORM_SECRET!, { form: 'contact' });
 */
export function issueFormTimestamp(secret: string, options: IssueFormTimestampOptions = {}): string {
  const issues: string[] = [];
  checkSecrets(secret, issues);
  const now = options.now ?? Date.now();
  if (!(Number.isInteger(now) && now >= 0)) issues.push(`${OPTION}: now must be epoch milliseconds`);
  if (issues.length > 0) throw new ConfigurationError(issues);
  const issuedAt36 = now.toString(36);
  return `${VERSION}.${issuedAt36}.${mac(secret, issuedAt36, options.form ?? '').toString('base64url')}`;
}

/**
 * Verifies a token: `tampered` unless its HMAC matches one of the secrets (compared in
 * constant time), then `too-fast` / `expired` / `ok` by its age.
 *
 * @example
 * verifyFormTimestamp(token, { secret, minMs: 3000, maxAgeMs: 86_400_000, now: Date.now() }); // { outcome: 'ok', elapsedMs: 5210 }
 */
export function verifyFormTimestamp(
  token: string | undefined,
  check: { secret: string | readonly string[]; form?: string; minMs: number; maxAgeMs: number; now: number },
): { outcome: FillTimeOutcome; elapsedMs?: number } {
  if (token === undefined || token.trim() === '') return { outcome: 'missing' };
  const match = TOKEN.exec(token.trim());
  if (match === null) return { outcome: 'tampered' };
  const [, issuedAt36, signature] = match as unknown as [string, string, string];
  const given = Buffer.from(signature, 'base64url');
  const genuine = secretsOf(check.secret).some((secret) => {
    const expected = mac(secret, issuedAt36, check.form ?? '');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!genuine) return { outcome: 'tampered' };
  const elapsedMs = check.now - parseInt(issuedAt36, 36);
  if (elapsedMs < check.minMs) return { outcome: 'too-fast', elapsedMs };
  if (elapsedMs > check.maxAgeMs) return { outcome: 'expired', elapsedMs };
  return { outcome: 'ok', elapsedMs };
}

function validate(options: MinimumFillTimeOptions): void {
  const issues: string[] = [];
  checkSecrets(options.secret, issues);
  const minMs = options.minMs ?? 3000;
  const maxAgeMs = options.maxAgeMs ?? 24 * 60 * 60 * 1000;
  if (!(Number.isFinite(minMs) && minMs >= 0)) issues.push(`${OPTION}.minMs: expected a non-negative number of milliseconds`);
  if (!(Number.isFinite(maxAgeMs) && maxAgeMs > 0 && maxAgeMs > minMs)) issues.push(`${OPTION}.maxAgeMs: expected a positive number of milliseconds greater than minMs`);
  if (options.field !== undefined && options.field.trim() === '') issues.push(`${OPTION}.field: expected a form field name`);
  if (options.name !== undefined && options.name.trim() === '') issues.push(`${OPTION}.name: expected a non-empty string`);
  for (const key of ['missingScore', 'tamperedScore', 'tooFastScore', 'expiredScore'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) issues.push(`${OPTION}.${key}: expected a number from 0 to 1`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

const REASONS: Readonly<Record<Exclude<FillTimeOutcome, 'ok'>, string>> = {
  missing: 'form timestamp is missing',
  tampered: 'form timestamp is not genuine',
  'too-fast': 'form was submitted faster than a person can fill it',
  expired: 'form timestamp is too old',
};

/**
 * Creates the time-trap provider (`local: true`, facets `['fields']`): reads the token
 * {@link issueFormTimestamp} put in `field` and scores the outcome — `ok` 0, `missing`
 * `missingScore` (0.6), `tampered` `tamperedScore` (1), `too-fast` `tooFastScore` (1),
 * `expired` `expiredScore` (0.3). `data` is `{ fillTime: outcome, elapsedMs? }`. Instances
 * sharing the secret must have synchronised clocks: skew counts as fill time.
 *
 * @example
 * const trap = minimumFillTime({ secret: process.env.FORM_SECRET!, form: 'contact', minMs: 4000 });
 * await trap.check({ fields: { 'fs-timestamp': token } }, { signal }); // { score: 0, data: { fillTime: 'ok', elapsedMs: 5210 } }
 */
export function minimumFillTime(options: MinimumFillTimeOptions): AsyncProvider {
  validate(options);
  const field = options.field ?? 'fs-timestamp';
  const now = options.now ?? Date.now;
  const scores: Readonly<Record<FillTimeOutcome, number>> = {
    ok: 0,
    missing: options.missingScore ?? 0.6,
    tampered: options.tamperedScore ?? 1,
    'too-fast': options.tooFastScore ?? 1,
    expired: options.expiredScore ?? 0.3,
  };
  const check = {
    secret: options.secret,
    form: options.form ?? '',
    minMs: options.minMs ?? 3000,
    maxAgeMs: options.maxAgeMs ?? 24 * 60 * 60 * 1000,
  };
  return {
    name: options.name ?? 'fill-time',
    version: '1',
    facets: ['fields'],
    local: true,
    defaults: { weight: 1 },
    async check(subject): Promise<ProviderResult> {
      const { outcome, elapsedMs } = verifyFormTimestamp(subject.fields?.[field], { ...check, now: now() });
      const score = scores[outcome];
      return {
        score,
        reasons: outcome === 'ok' || score === 0 ? [] : [REASONS[outcome]],
        data: { fillTime: outcome, ...(elapsedMs === undefined ? {} : { elapsedMs }) },
      };
    },
  };
}
