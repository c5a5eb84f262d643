/**
 * The AbuseIPDB provider: IP reputation from reports of abuse of every kind (spam, brute
 * force, scans), with an optional feedback call that reports confirmed spam back.
 */
import { ConfigurationError, ProviderResponseError } from '@formsecurity/core';
import type { AsyncProvider, CheckContext, ProviderDefaults, ProviderResult, Subject } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { DEFAULT_MAX_BODY_BYTES, classifyStatus, httpJson, httpRequest, isJsonContentType, parseJsonBody } from '../http.js';
import { isJsonObject } from '../json-fields.js';
import { commonOptionIssues, revealKey, secretIssues } from '../provider-options.js';
import type { CommonProviderOptions, KeyInput } from '../provider-options.js';
import { isEmptyLimits } from '../upstream-limits.js';
import { isRecentDuplicateReport, parseAbuseIpdbCheck, scoreAbuseIpdbCheck } from './answer.js';

/** What a report tells AbuseIPDB: only `spam` is sent; `ham` is accepted and ignored. */
export type AbuseIpdbReportKind = 'spam' | 'ham';

/** Options of {@link abuseIpdb}; only `key` is required. */
export interface AbuseIpdbOptions extends CommonProviderOptions {
  /** The API key (sent in the `Key` header; never logged or put in an error). A Secret is read per request, so it may rotate. */
  readonly key: KeyInput;
  /** Default `https://api.abuseipdb.com`. Must be https unless loopback or `allowInsecureHttp`. */
  readonly baseUrl?: string;
  /** Accept a non-loopback `http://` base URL (default false). */
  readonly allowInsecureHttp?: boolean;
  /** Only reports from the last this many days count, 1..365 (default 90). */
  readonly maxAgeInDays?: number;
  /** AbuseIPDB category ids a spam report carries (default `[10]`, Web Spam; `12` is Blog Spam). */
  readonly reportCategories?: readonly number[];
  /**
   * The comment a spam report carries, at most 1024 characters (default
   * {@link ABUSEIPDB_REPORT_COMMENT}). It is public: never put personal data in it.
   */
  readonly reportComment?: string;
}

/** An AbuseIPDB provider: a `Provider` that can also report spam back. */
export interface AbuseIpdbProvider extends AsyncProvider {
  /**
   * Reports a submission the application confirmed as spam (`POST /api/v2/report`).
   * `ham` is a no-op: AbuseIPDB only takes reports of abuse. A subject without an IP is a
   * no-op too. An address already reported in the last 15 minutes counts as reported.
   * Rejects with the same classified errors as `check`.
   */
  report(subject: Subject, kind: AbuseIpdbReportKind, context: CheckContext): Promise<void>;
}

/**
 * Defaults: `weight` 0.8 because reports cover every kind of abuse (SSH brute force and port
 * scans as well as spam) and shared addresses collect reports too, so AbuseIPDB alone should
 * challenge rather than block; `ttlMs` 24 hours to stay inside 1,000 checks a day.
 */
export const ABUSEIPDB_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 0.8, ttlMs: 24 * 60 * 60 * 1000 };

/**
 * The free tier's documented limits, for the quota layer: 1,000 checks a day (reports have
 * their own 1,000 a day). Paid plans: 3,000 to 50,000 a day.
 */
export const ABUSEIPDB_LIMITS = { daily: 1000 } as const;

/** The default comment of a spam report: says what happened, and nothing about whom. */
export const ABUSEIPDB_REPORT_COMMENT = 'Form spam submission, detected by FormSecurity';

const DEFAULT_BASE_URL = 'https://api.abuseipdb.com';
const OPTION = 'abuseIpdb';
// Category ids run from 1 (DNS Compromise) to 23 (IoT Targeted).
const MAX_CATEGORY = 23;
const MAX_COMMENT_LENGTH = 1024;

function validate(options: AbuseIpdbOptions): void {
  const issues = [...secretIssues(options.key, `${OPTION}.key`), ...commonOptionIssues(options, OPTION)];
  const { maxAgeInDays, reportCategories, reportComment } = options;
  if (maxAgeInDays !== undefined && !(Number.isInteger(maxAgeInDays) && maxAgeInDays >= 1 && maxAgeInDays <= 365)) {
    issues.push(`${OPTION}.maxAgeInDays: expected a whole number of days from 1 to 365`);
  }
  if (
    reportCategories !== undefined &&
    (!Array.isArray(reportCategories) ||
      reportCategories.length === 0 ||
      reportCategories.some((id) => !(Number.isInteger(id) && id >= 1 && id <= MAX_CATEGORY)))
  ) {
    issues.push(`${OPTION}.reportCategories: expected a non-empty list of AbuseIPDB category ids (1 to ${MAX_CATEGORY})`);
  }
  if (reportComment !== undefined && !(typeof reportComment === 'string' && reportComment.length <= MAX_COMMENT_LENGTH)) {
    issues.push(`${OPTION}.reportComment: expected a string of at most ${MAX_COMMENT_LENGTH} characters`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * Creates the AbuseIPDB provider (name `abuseipdb`, facet `ip`).
 *
 * Sends `GET <baseUrl>/api/v2/check?ipAddress=..&maxAgeInDays=90` with the key in the `Key`
 * header. Score: `abuseConfidenceScore / 100`; a whitelisted address scores 0 with a reason.
 * `data` holds the confidence, report counts, `isTor`, `usageType`, `countryCode`, `isp` and
 * `domain` — never the address or its hostnames. The `X-RateLimit-*` headers of every answer
 * become `upstream`. 401 → `auth`, 422 → `invalid-input`, 429 → `rate-limited` with
 * `retryAfterMs` from `Retry-After`.
 *
 * @example
 * const abuse = abuseIpdb({ key: process.env.ABUSEIPDB_KEY ?? '' });
 * const engine = createFormSecurity({ providers: [abuse] });
 * // later, once a moderator confirms a submission as spam:
 * await abuse.report({ ip: '203.0.113.7' }, 'spam', { signal: AbortSignal.timeout(2000) });
 */
export function abuseIpdb(options: AbuseIpdbOptions): AbuseIpdbProvider {
  validate(options);
  const base = resolveEndpoint(options.baseUrl ?? DEFAULT_BASE_URL, {
    option: `${OPTION}.baseUrl`,
    ...(options.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: options.allowInsecureHttp }),
  });
  const checkUrl = endpointUrl(base, '/api/v2/check');
  const reportUrl = endpointUrl(base, '/api/v2/report');
  const name = 'abuseipdb';
  const headers = (): Record<string, string> => ({ key: revealKey(options.key), accept: 'application/json' });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxAgeInDays = String(options.maxAgeInDays ?? 90);
  const categories = (options.reportCategories ?? [10]).join(',');
  const comment = options.reportComment ?? ABUSEIPDB_REPORT_COMMENT;

  return declareEndpoints({
    name,
    version: '1',
    facets: ['ip'],
    defaults: {
      weight: options.weight ?? ABUSEIPDB_DEFAULTS.weight,
      ttlMs: options.ttlMs ?? ABUSEIPDB_DEFAULTS.ttlMs,
      limits: ABUSEIPDB_LIMITS,
    },
    async check(subject, { signal }): Promise<ProviderResult> {
      if (!subject.ip) return { score: 0, reasons: [] };
      const url = new URL(checkUrl.href);
      url.search = new URLSearchParams({ ipAddress: subject.ip, maxAgeInDays }).toString();
      const { body, upstream } = await httpJson({ provider: name, url, signal, headers: headers(), maxBodyBytes });
      return scoreAbuseIpdbCheck(parseAbuseIpdbCheck(body, name), isEmptyLimits(upstream) ? undefined : upstream);
    },
    async report(subject, kind, { signal }): Promise<void> {
      if (kind !== 'spam' && kind !== 'ham') throw new TypeError(`${name}: report kind must be 'spam' or 'ham'`);
      if (kind === 'ham' || !subject.ip) return;
      const body = new URLSearchParams({ ip: subject.ip, categories, comment });
      const answer = await httpRequest({ provider: name, url: reportUrl, method: 'POST', signal, headers: headers(), body, maxBodyBytes });
      const isJson = isJsonContentType(answer.headers.get('content-type'));
      const failure = classifyStatus(name, answer.status, answer.headers, Date.now());
      if (failure === undefined) {
        // A 2xx that is not AbuseIPDB's JSON (a captive portal, a proxy page) is no report.
        if (!isJson || !isJsonObject(parseJsonBody(name, answer.text))) {
          throw new ProviderResponseError('malformed', `${name}: report answer is not JSON`, { status: answer.status });
        }
        return;
      }
      if (answer.status === 429 && isJson && isRecentDuplicate(answer.text)) return;
      throw failure;
    },
  }, [base]);
}

function isRecentDuplicate(text: string): boolean {
  try {
    return isRecentDuplicateReport(JSON.parse(text) as unknown);
  } catch {
    return false;
  }
}
