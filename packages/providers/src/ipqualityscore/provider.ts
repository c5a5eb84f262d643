/**
 * The IPQualityScore provider: a fraud score for an address, with proxy / VPN / Tor /
 * recent-abuse / bot flags. The key travels in the URL path, as the service's API is
 * designed: the URL therefore never appears in an error (the shared HTTP helper guarantees
 * it), and the loopback fake redacts the path it records.
 */
import { ConfigurationError } from '@formsecurity/core';
import type { AsyncProvider, ProviderDefaults, ProviderResult } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { DEFAULT_MAX_BODY_BYTES, httpJson } from '../http.js';
import { commonOptionIssues, keyValue, revealKey, secretIssues } from '../provider-options.js';
import type { CommonProviderOptions, KeyInput } from '../provider-options.js';
import { isEmptyLimits } from '../upstream-limits.js';
import { parseIpQualityScoreAnswer, scoreIpQualityScoreAnswer } from './answer.js';

/** Options of {@link ipQualityScore}; only `key` is required. */
export interface IpQualityScoreOptions extends CommonProviderOptions {
  /** The private API key (sent in the path; never logged or put in an error). A Secret is read per request, so it may rotate. */
  readonly key: KeyInput;
  /** Default `https://www.ipqualityscore.com`. Must be https unless loopback. */
  readonly baseUrl?: string;
  /**
   * 0..3 (default 0): higher levels catch more proxies and raise more false positives;
   * IPQualityScore advises starting at 0 or 1.
   */
  readonly strictness?: 0 | 1 | 2 | 3;
  /** Score shared public networks (universities, corporate offices, cafés) more leniently (default true). */
  readonly allowPublicAccessPoints?: boolean;
}

/**
 * Defaults: `weight` 0.9 — the fraud score is built for this job, but a proxy-heavy score on
 * a shared network should not block alone; `ttlMs` 24 hours because the free tier allows
 * 5,000 lookups a month.
 */
export const IP_QUALITY_SCORE_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 0.9, ttlMs: 24 * 60 * 60 * 1000 };

/** The free tier's documented limit, for the quota layer: 5,000 lookups a month. */
export const IP_QUALITY_SCORE_LIMITS = { monthly: 5000 } as const;

const DEFAULT_BASE_URL = 'https://www.ipqualityscore.com';
const OPTION = 'ipQualityScore';

function validate(options: IpQualityScoreOptions): void {
  const issues = [...secretIssues(options.key, `${OPTION}.key`), ...commonOptionIssues(options, OPTION)];
  // The key becomes a path segment: anything that would change the path is refused outright.
  const key = keyValue(options.key);
  if (typeof key === 'string' && /[/?#%\s]/.test(key)) issues.push(`${OPTION}.key: must not contain /, ?, #, % or spaces`);
  const { strictness, allowPublicAccessPoints } = options;
  if (strictness !== undefined && !(Number.isInteger(strictness) && strictness >= 0 && strictness <= 3)) {
    issues.push(`${OPTION}.strictness: expected 0, 1, 2 or 3`);
  }
  if (allowPublicAccessPoints !== undefined && typeof allowPublicAccessPoints !== 'boolean') {
    issues.push(`${OPTION}.allowPublicAccessPoints: expected true or false`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * Creates the IPQualityScore provider (name `ipqualityscore`, facet `ip`).
 *
 * Sends `GET <baseUrl>/api/json/ip/<key>/<ip>?strictness=0&allow_public_access_points=true`.
 * Score: `fraud_score / 100`. `data`: the fraud score, `proxy`, `vpn`, `tor`, `activeVpn`,
 * `activeTor`, `recentAbuse`, `botStatus`, `isCrawler`, `mobile`, `connectionType`,
 * `abuseVelocity`, `countryCode`, `isp`, `asn`, `organization` — never the address or its
 * host name. `success: false` is classified from its message: key problems → `auth`,
 * credits → `quota-exceeded`, request rates → `rate-limited`, a refused address →
 * `invalid-input`.
 *
 * @example
 * const ipqs = ipQualityScore({ key: process.env.IPQS_KEY ?? '', strictness: 1 });
 * const engine = createFormSecurity({ providers: [ipqs] });
 */
export function ipQualityScore(options: IpQualityScoreOptions): AsyncProvider {
  validate(options);
  const base = resolveEndpoint(options.baseUrl ?? DEFAULT_BASE_URL, { option: `${OPTION}.baseUrl` });
  const name = 'ipqualityscore';
  const search = new URLSearchParams({
    strictness: String(options.strictness ?? 0),
    allow_public_access_points: String(options.allowPublicAccessPoints ?? true),
  }).toString();

  return declareEndpoints({
    name,
    version: '1',
    facets: ['ip'],
    defaults: {
      weight: options.weight ?? IP_QUALITY_SCORE_DEFAULTS.weight,
      ttlMs: options.ttlMs ?? IP_QUALITY_SCORE_DEFAULTS.ttlMs,
      limits: IP_QUALITY_SCORE_LIMITS,
    },
    async check(subject, { signal }): Promise<ProviderResult> {
      if (!subject.ip) return { score: 0, reasons: [] };
      const url = endpointUrl(base, `/api/json/ip/${encodeURIComponent(revealKey(options.key))}/${encodeURIComponent(subject.ip)}`);
      url.search = search;
      const { body, upstream } = await httpJson({
        provider: name,
        url,
        signal,
        headers: { accept: 'application/json' },
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      });
      const result = scoreIpQualityScoreAnswer(parseIpQualityScoreAnswer(body, name));
      return isEmptyLimits(upstream) ? result : { ...result, upstream };
    },
  }, [base]);
}
