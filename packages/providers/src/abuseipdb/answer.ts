/**
 * Reading an AbuseIPDB v2 `check` answer defensively, and turning it into a score. The
 * answer echoes the address and its reverse-DNS hostnames: neither is kept.
 */
import type { ProviderResult, UpstreamLimits } from '@formsecurity/core';
import { definedFields, isJsonObject, jsonFields } from '../json-fields.js';

/** What AbuseIPDB says about one address (the fields FormSecurity keeps). */
export interface AbuseIpdbCheck {
  /** 0..100: AbuseIPDB's confidence that the address is abusive. */
  readonly abuseConfidenceScore: number;
  readonly totalReports: number;
  readonly numDistinctUsers?: number;
  /** ISO 8601, absent when never reported. */
  readonly lastReportedAt?: string;
  /** Whitelisted addresses (well-known services, the reporter's own) are never abusive. */
  readonly isWhitelisted?: boolean;
  readonly isTor: boolean;
  readonly isPublic?: boolean;
  /** e.g. `Data Center/Web Hosting/Transit`, `Fixed Line ISP`. */
  readonly usageType?: string;
  readonly countryCode?: string;
  readonly isp?: string;
  readonly domain?: string;
}

/**
 * Parses the body of a 200 answer to `GET /api/v2/check`. A body of any other shape is
 * `ProviderResponseError('malformed')`.
 *
 * @example
 * parseAbuseIpdbCheck({ data: { abuseConfidenceScore: 87, totalReports: 12, isTor: false } });
 * // { abuseConfidenceScore: 87, totalReports: 12, isTor: false }
 */
export function parseAbuseIpdbCheck(body: unknown, provider = 'abuseipdb'): AbuseIpdbCheck {
  const read = jsonFields(provider);
  if (!isJsonObject(body)) throw read.malformed('answer is not a JSON object');
  const data = read.object(body, 'data');
  const optional = definedFields({
    numDistinctUsers: read.optionalNumber(data, 'numDistinctUsers', { min: 0 }),
    lastReportedAt: read.optionalString(data, 'lastReportedAt'),
    isWhitelisted: read.optionalBoolean(data, 'isWhitelisted'),
    isPublic: read.optionalBoolean(data, 'isPublic'),
    usageType: read.optionalString(data, 'usageType'),
    countryCode: read.optionalString(data, 'countryCode'),
    isp: read.optionalString(data, 'isp'),
    domain: read.optionalString(data, 'domain'),
  });
  return {
    abuseConfidenceScore: read.number(data, 'abuseConfidenceScore', { min: 0, max: 100 }),
    totalReports: read.optionalNumber(data, 'totalReports', { min: 0 }) ?? 0,
    isTor: read.optionalBoolean(data, 'isTor') ?? false,
    ...optional,
  };
}

function reportsText(check: AbuseIpdbCheck): string {
  const reports = check.totalReports === 1 ? '1 report' : `${check.totalReports} reports`;
  if (check.numDistinctUsers === undefined) return reports;
  return `${reports} from ${check.numDistinctUsers === 1 ? '1 user' : `${check.numDistinctUsers} users`}`;
}

/**
 * Scores a parsed answer: `abuseConfidenceScore / 100`, or 0 for a whitelisted address. A
 * Tor exit node is a reason and `data.isTor`, not a score (as with StopForumSpam).
 *
 * @example
 * scoreAbuseIpdbCheck({ abuseConfidenceScore: 87, totalReports: 12, numDistinctUsers: 5, isTor: false });
 * // { score: 0.87, reasons: ['IP reported to AbuseIPDB (confidence 87%, 12 reports from 5 users)'], data: {...} }
 */
export function scoreAbuseIpdbCheck(check: AbuseIpdbCheck, upstream?: UpstreamLimits): ProviderResult {
  const reasons: string[] = [];
  let score = 0;
  if (check.isWhitelisted === true) {
    reasons.push('IP is whitelisted on AbuseIPDB');
  } else if (check.abuseConfidenceScore > 0) {
    score = check.abuseConfidenceScore / 100;
    reasons.push(`IP reported to AbuseIPDB (confidence ${Math.round(check.abuseConfidenceScore)}%, ${reportsText(check)})`);
  }
  if (check.isTor) reasons.push('IP is a Tor exit node (AbuseIPDB)');
  return {
    score,
    reasons,
    data: { ...check },
    ...(upstream === undefined ? {} : { upstream }),
  };
}

/**
 * True when a 429 from `POST /api/v2/report` only says this address was reported in the
 * last 15 minutes — the goal is met, so it is not a rate limit of the account. The wording
 * is not documented as stable; anything else stays a rate limit.
 *
 * @example
 * isRecentDuplicateReport({ errors: [{ detail: 'You can only report the same IP address (`…`) once in 15 minutes.', status: 429 }] }); // true
 */
export function isRecentDuplicateReport(body: unknown): boolean {
  if (!isJsonObject(body) || !Array.isArray(body['errors'])) return false;
  return body['errors'].some(
    (error: unknown) =>
      isJsonObject(error) && typeof error['detail'] === 'string' && /same IP address.*once in \d+ minutes/i.test(error['detail']),
  );
}
