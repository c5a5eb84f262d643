/**
 * The ip-api.com provider: geolocation plus proxy / hosting / mobile flags, scored only by
 * the rules the operator turns on (see geolocation-policy.ts).
 *
 * The free endpoint speaks plain HTTP only, so the visitor's address would cross the
 * network unencrypted: it takes an explicit `acceptPlainHttp: true`. A pro key switches to
 * `https://pro.ip-api.com`, and a key is never sent over plain HTTP.
 */
import { ConfigurationError, ProviderResponseError } from '@formsecurity/core';
import type { AsyncProvider, ProviderDefaults, ProviderResult } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, isLoopbackHost, resolveEndpoint } from '../endpoint.js';
import { createGeolocationPolicy, geolocationPolicyIssues } from '../geolocation-policy.js';
import type { GeolocationPolicyOptions } from '../geolocation-policy.js';
import { DEFAULT_MAX_BODY_BYTES, classifyStatus, httpRequest, isJsonContentType, parseJsonBody } from '../http.js';
import { commonOptionIssues, revealKey, secretIssues } from '../provider-options.js';
import type { CommonProviderOptions, KeyInput } from '../provider-options.js';
import { isEmptyLimits, parseRetryAfter } from '../upstream-limits.js';
import { IP_API_FIELDS, parseIpApiAnswer, readIpApiLimits } from './answer.js';

/** Options of {@link ipApi}: either `acceptPlainHttp: true` (free endpoint) or a pro `key`. */
export interface IpApiOptions extends CommonProviderOptions, GeolocationPolicyOptions {
  /** A pro key: requests go to `https://pro.ip-api.com` with `key=<key>`; no per-minute limit. A Secret is read per request. */
  readonly key?: KeyInput;
  /** Default `http://ip-api.com` without a key, `https://pro.ip-api.com` with one. */
  readonly baseUrl?: string;
  /**
   * Accept the free endpoint's plain HTTP (default false): the visitor's address then
   * crosses the network unencrypted. Not allowed together with `key`.
   */
  readonly acceptPlainHttp?: boolean;
}

/**
 * Defaults: `weight` 1 because the score only ever comes from rules the operator chose (an
 * unconfigured ip-api scores 0); `ttlMs` 24 hours because where an address is changes
 * slowly, and the free tier allows 45 requests a minute.
 */
export const IP_API_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 1, ttlMs: 24 * 60 * 60 * 1000 };

/** The free tier's documented limit, for the quota layer: 45 requests a minute (pro keys: none). */
export const IP_API_LIMITS = { perMinute: 45 } as const;

const FREE_BASE_URL = 'http://ip-api.com';
const PRO_BASE_URL = 'https://pro.ip-api.com';
const OPTION = 'ipApi';

function isPlainHttpToRemote(baseUrl: string): boolean {
  try {
    const url = new URL(baseUrl);
    return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

function validate(options: IpApiOptions, baseUrl: string): void {
  const issues = [...commonOptionIssues(options, OPTION), ...geolocationPolicyIssues(options, OPTION)];
  if (options.key !== undefined) issues.push(...secretIssues(options.key, `${OPTION}.key`, 'the pro key, or leave it out'));
  if (options.acceptPlainHttp !== undefined && typeof options.acceptPlainHttp !== 'boolean') {
    issues.push(`${OPTION}.acceptPlainHttp: expected true or false`);
  }
  if (isPlainHttpToRemote(baseUrl)) {
    if (options.key !== undefined) {
      issues.push(`${OPTION}.baseUrl: a key is never sent over plain http://; use https:// (the pro endpoint is ${PRO_BASE_URL})`);
    } else if (options.acceptPlainHttp !== true) {
      issues.push(
        `${OPTION}.acceptPlainHttp: the free endpoint ${FREE_BASE_URL} is plain HTTP, so visitors' addresses cross the ` +
          `network unencrypted; set acceptPlainHttp: true to accept that, or give a pro key to use https`,
      );
    }
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * Creates the ip-api provider (name `ip-api`, facet `ip`).
 *
 * Sends `GET <baseUrl>/json/<ip>?fields=status,message,country,countryCode,isp,org,as,mobile,proxy,hosting`
 * (plus `key` with a pro key). Score: the highest of the policy rules that fire
 * (`denyCountries`, `allowCountries`, `flagProxy`, `flagHosting`), 0 when none does.
 * `data`: `country`, `countryCode`, `isp`, `org`, `as`, `mobile`, `proxy`, `hosting`.
 * Private and reserved ranges score 0 with a reason and no data. `X-Rl` / `X-Ttl` become `upstream`
 * (`remaining`, `resetAtMs`, and `retryAfterMs` once `X-Rl` reaches 0); a 429 is
 * `rate-limited` with the `X-Ttl` wait; `invalid query` is `invalid-input`.
 *
 * @example
 * const geo = ipApi({ acceptPlainHttp: true, allowCountries: ['DE', 'AT', 'CH'], flagHosting: true });
 * const engine = createFormSecurity({ providers: [geo] });
 */
export function ipApi(options: IpApiOptions): AsyncProvider {
  const baseUrl = options.baseUrl ?? (options.key === undefined ? FREE_BASE_URL : PRO_BASE_URL);
  validate(options, baseUrl);
  const base = resolveEndpoint(baseUrl, {
    option: `${OPTION}.baseUrl`,
    allowInsecureHttp: options.key === undefined && options.acceptPlainHttp === true,
  });
  const policy = createGeolocationPolicy(options);
  const name = 'ip-api';
  const key = options.key;
  const query = (): string => {
    const search = new URLSearchParams({ fields: IP_API_FIELDS.join(',') });
    if (key !== undefined) search.set('key', revealKey(key));
    return search.toString();
  };

  return declareEndpoints({
    name,
    version: '1',
    facets: ['ip'],
    defaults: {
      weight: options.weight ?? IP_API_DEFAULTS.weight,
      ttlMs: options.ttlMs ?? IP_API_DEFAULTS.ttlMs,
      limits: IP_API_LIMITS,
    },
    async check(subject, { signal }): Promise<ProviderResult> {
      if (!subject.ip) return { score: 0, reasons: [] };
      const url = endpointUrl(base, `/json/${encodeURIComponent(subject.ip)}`);
      url.search = query();
      const answer = await httpRequest({
        provider: name,
        url,
        signal,
        headers: { accept: 'application/json' },
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      });
      const nowMs = Date.now();
      const limits = readIpApiLimits(answer.headers, nowMs);
      if (answer.status === 429) {
        // ip-api says how long to wait in X-Ttl rather than Retry-After.
        const retryAfterMs =
          limits.resetAtMs === undefined ? parseRetryAfter(answer.headers.get('retry-after'), nowMs) : limits.resetAtMs - nowMs;
        throw new ProviderResponseError('rate-limited', `${name}: rate limited (HTTP 429)`, {
          status: 429,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }
      const failure = classifyStatus(name, answer.status, answer.headers, nowMs);
      if (failure !== undefined) throw failure;
      if (!isJsonContentType(answer.headers.get('content-type'))) {
        throw new ProviderResponseError('malformed', `${name}: answer is not JSON (wrong content type)`, { status: answer.status });
      }
      const parsed = parseIpApiAnswer(parseJsonBody(name, answer.text), name);
      const upstream = isEmptyLimits(limits) ? {} : { upstream: limits };
      if (parsed.status === 'unlocatable') {
        return { score: 0, reasons: [`IP address is in a ${parsed.range} range (${name})`], ...upstream };
      }
      const { location } = parsed;
      const verdict = policy.evaluate(location, name);
      return { score: verdict.score, reasons: verdict.reasons, data: { ...location }, ...upstream };
    },
  }, [base]);
}
