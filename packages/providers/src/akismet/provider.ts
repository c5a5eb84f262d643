/**
 * The Akismet provider: content spam detection for comments, contact forms and sign-ups.
 * A key is required; every request carries it in the form body, never in the URL.
 */
import { ConfigurationError } from '@formsecurity/core';
import type { AsyncProvider, CheckContext, ProviderDefaults, ProviderResult, ReportKind, Subject, SubjectFacet } from '@formsecurity/core';
import { ProviderResponseError } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { DEFAULT_MAX_BODY_BYTES, httpRequest } from '../http.js';
import { keyValue, revealKey } from '../provider-options.js';
import type { KeyInput } from '../provider-options.js';
import { checkSubmission, parseCommentCheck } from './answer.js';

/** Options of {@link akismet}. `apiKey` and `blog` are required. */
export interface AkismetOptions {
  /** The Akismet API key. A secret: never in an error, a reason or `data`. A Secret is read per request, so it may rotate. */
  readonly apiKey: KeyInput;
  /** The site's front page URL, as registered with the key (`blog`). */
  readonly blog: string;
  /** Default `https://rest.akismet.com`. Must be https unless loopback or `allowInsecureHttp`. */
  readonly baseUrl?: string;
  readonly allowInsecureHttp?: boolean;
  /** `comment_type`: `contact-form` (default), `signup`, `comment`, `message`, `forum-post`, … */
  readonly commentType?: string;
  /** `blog_lang`, e.g. `en, fr_ca`. */
  readonly blogLang?: string;
  /** `permalink`: the URL of the page the form is on. */
  readonly permalink?: string;
  /** Name of the form's honeypot field; sent as `honeypot_field_name` with the field's value. */
  readonly honeypotField?: string;
  /** Send the message text (`comment_content`; default true). False keeps it from the third party. */
  readonly sendContent?: boolean;
  /** Send the e-mail address (`comment_author_email`; default true). */
  readonly sendEmail?: boolean;
  /** Send the username as `comment_author` (default true). */
  readonly sendUsername?: boolean;
  /** Mark every call `is_test=1`, so Akismet does not learn from it (default false). */
  readonly isTest?: boolean;
  /** Score of a `true` answer (default 1). */
  readonly spamScore?: number;
  /** Score of a `true` answer with `X-akismet-pro-tip: discard` (default 1). */
  readonly discardScore?: number;
  /** How much a full score counts in the verdict (default {@link AKISMET_DEFAULTS}.weight). */
  readonly weight?: number;
  /** How long an answer stays fresh in the cache (default 1 hour). */
  readonly ttlMs?: number;
  /** Largest body accepted (default 64 KiB; answers are a few bytes). */
  readonly maxBodyBytes?: number;
}

/** The Akismet provider, with `report` to correct it (submit-spam / submit-ham). */
export interface AkismetProvider extends AsyncProvider {
  /**
   * Tells Akismet that a submission was spam it missed, or ham it caught, with the same
   * parameters as the check. Resolves when Akismet accepted the report.
   */
  report(subject: Subject, kind: ReportKind, context: CheckContext): Promise<void>;
}

/**
 * Defaults: `weight` 0.9 — Akismet is precise on comment spam but sees only what it is sent;
 * `ttlMs` 1 hour — the answer depends on the text, so a repeat of the same text within
 * the hour reuses it.
 */
export const AKISMET_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 0.9, ttlMs: 60 * 60 * 1000 };

/**
 * Akismet's plans limit calls per month: Personal (non-commercial) is unlimited, the smallest
 * commercial tier allows 500; the default here is that smallest tier. Going over for three
 * months in a row gets calls denied until the month ends.
 */
export const AKISMET_LIMITS = { monthly: 500 } as const;

const DEFAULT_BASE_URL = 'https://rest.akismet.com';
const OPTION = 'akismet';

const isScore = (value: number | undefined): boolean =>
  value === undefined || (Number.isFinite(value) && value >= 0 && value <= 1);

function validate(options: AkismetOptions): void {
  const issues: string[] = [];
  const apiKey = keyValue(options.apiKey);
  if (typeof apiKey !== 'string' || !/^\S{1,200}$/.test(apiKey)) {
    issues.push(`${OPTION}.apiKey: expected the API key (a non-empty string without spaces)`);
  }
  let blog: URL | undefined;
  try {
    blog = new URL(options.blog);
  } catch {
    blog = undefined;
  }
  if (blog === undefined || (blog.protocol !== 'https:' && blog.protocol !== 'http:')) {
    issues.push(`${OPTION}.blog: expected the site's absolute URL, e.g. https://example.org`);
  }
  for (const key of ['spamScore', 'discardScore', 'weight'] as const) {
    if (!isScore(options[key])) issues.push(`${OPTION}.${key}: expected a number from 0 to 1`);
  }
  if (options.ttlMs !== undefined && !(Number.isFinite(options.ttlMs) && options.ttlMs > 0)) {
    issues.push(`${OPTION}.ttlMs: expected a positive number of milliseconds`);
  }
  if (options.maxBodyBytes !== undefined && !(Number.isInteger(options.maxBodyBytes) && options.maxBodyBytes > 0)) {
    issues.push(`${OPTION}.maxBodyBytes: expected a positive integer`);
  }
  for (const key of ['commentType', 'honeypotField'] as const) {
    const value = options[key];
    if (value !== undefined && value.trim() === '') issues.push(`${OPTION}.${key}: expected a non-empty string`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * The facets worth a call: the ones the options allow sending. With all of them kept
 * private, Akismet still judges the IP and user agent, so the IP alone is then enough.
 */
function facetsOf(options: AkismetOptions): SubjectFacet[] {
  const facets: SubjectFacet[] = [];
  if (options.sendContent !== false) facets.push('content');
  if (options.sendEmail !== false) facets.push('email');
  if (options.sendUsername !== false) facets.push('username');
  return facets.length > 0 ? facets : ['ip'];
}

/** The form Akismet expects, from the subject and the options. Only what the options allow is included. */
function formFor(subject: Subject, options: AkismetOptions, userIp: string): URLSearchParams {
  const form = new URLSearchParams({
    api_key: revealKey(options.apiKey),
    blog: options.blog,
    user_ip: userIp,
    comment_type: options.commentType ?? 'contact-form',
    blog_charset: 'UTF-8',
  });
  const optional: [string, string | undefined][] = [
    ['user_agent', subject.userAgent],
    ['permalink', options.permalink],
    ['blog_lang', options.blogLang],
    ['comment_author', options.sendUsername === false ? undefined : subject.username],
    ['comment_author_email', options.sendEmail === false ? undefined : subject.email],
    ['comment_content', options.sendContent === false ? undefined : subject.content],
    ['is_test', options.isTest === true ? '1' : undefined],
  ];
  for (const [key, value] of optional) if (value !== undefined && value !== '') form.set(key, value);
  if (options.honeypotField !== undefined) {
    form.set('honeypot_field_name', options.honeypotField);
    form.set(options.honeypotField, subject.fields?.[options.honeypotField] ?? '');
  }
  return form;
}

/**
 * Creates the Akismet provider (name `akismet`; facets `content`, `email`, `username`,
 * minus any the options keep private).
 *
 * Sends `POST <baseUrl>/1.1/comment-check` form-encoded with `api_key`, `blog`, `user_ip`
 * (required: a subject without an IP is `invalid-input`), `user_agent`, `comment_type`,
 * `comment_author`, `comment_author_email`, `comment_content` and the optional settings.
 * `true` → `spamScore` (1), with `X-akismet-pro-tip: discard` → `discardScore` (1) and the
 * reason "blatant spam"; `false` → 0. `invalid` → `auth` (bad key or blog) or
 * `invalid-input` (bad user_ip). `data` is `{ spam, discard, alertCode? }`.
 *
 * @example
 * const provider = akismet({ apiKey: process.env.AKISMET_KEY!, blog: 'https://example.org', sendEmail: false });
 * const result = await provider.check({ ip: '203.0.113.7', content: 'Buy now' }, { signal });
 * await provider.report(subject, 'ham', { signal }); // a false positive, corrected
 */
export function akismet(options: AkismetOptions): AkismetProvider {
  validate(options);
  const base = resolveEndpoint(options.baseUrl ?? DEFAULT_BASE_URL, {
    option: `${OPTION}.baseUrl`,
    ...(options.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: options.allowInsecureHttp }),
  });
  const name = 'akismet';
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  function post(path: string, subject: Subject, signal: AbortSignal) {
    if (subject.ip === undefined) {
      // Checked before any request: Akismet requires user_ip and would answer `invalid`.
      return Promise.reject(new ProviderResponseError('invalid-input', `${name}: the subject has no IP, which Akismet requires`));
    }
    return httpRequest({
      provider: name,
      url: endpointUrl(base, path),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: formFor(subject, options, subject.ip),
      signal,
      maxBodyBytes,
    });
  }

  return declareEndpoints({
    name,
    version: '1',
    facets: facetsOf(options),
    defaults: {
      weight: options.weight ?? AKISMET_DEFAULTS.weight,
      ttlMs: options.ttlMs ?? AKISMET_DEFAULTS.ttlMs,
      limits: AKISMET_LIMITS,
    },
    async check(subject, { signal }): Promise<ProviderResult> {
      const answer = await post('/1.1/comment-check', subject, signal);
      const verdict = parseCommentCheck(name, answer, Date.now());
      const data = { spam: verdict.spam, discard: verdict.discard, ...(verdict.alertCode === undefined ? {} : { alertCode: verdict.alertCode }) };
      if (!verdict.spam) return { score: 0, reasons: [], data };
      if (verdict.discard) {
        return { score: options.discardScore ?? 1, reasons: ['Akismet: blatant spam (safe to discard)'], data };
      }
      return { score: options.spamScore ?? 1, reasons: ['Akismet: spam'], data };
    },
    async report(subject, kind, { signal }): Promise<void> {
      if (kind !== 'spam' && kind !== 'ham') throw new TypeError(`${name}: report kind must be 'spam' or 'ham'`);
      const answer = await post(kind === 'spam' ? '/1.1/submit-spam' : '/1.1/submit-ham', subject, signal);
      checkSubmission(name, answer, Date.now());
    },
  }, [base]);
}
