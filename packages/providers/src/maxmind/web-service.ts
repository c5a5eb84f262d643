/**
 * The MaxMind GeoIP2 / GeoLite2 web service provider: country, city or Insights lookups
 * over HTTPS with HTTP Basic auth, scored by the geolocation policy.
 */
import { ConfigurationError, ProviderResponseError } from '@formsecurity/core';
import type { AsyncProvider, ProviderDefaults, ProviderResult, UpstreamLimits } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { createGeolocationPolicy, geolocationPolicyIssues } from '../geolocation-policy.js';
import type { GeolocationPolicyOptions } from '../geolocation-policy.js';
import { DEFAULT_MAX_BODY_BYTES, classifyStatus, httpRequest, isJsonContentType, parseJsonBody } from '../http.js';
import { isJsonObject } from '../json-fields.js';
import { commonOptionIssues, revealKey, secretIssues } from '../provider-options.js';
import type { CommonProviderOptions, KeyInput } from '../provider-options.js';
import { parseMaxmindRecord, scoreMaxmindFacts } from './record.js';

/** The web service endpoints, cheapest first. Only `insights` carries anonymizer and hosting flags. */
export type MaxmindService = 'country' | 'city' | 'insights';

/** Options of {@link maxmindWebService}. */
export interface MaxmindWebServiceOptions extends CommonProviderOptions, GeolocationPolicyOptions {
  /** The MaxMind account id. */
  readonly accountId: string | number;
  /** The license key (sent as the Basic-auth password; never logged or put in an error). A Secret is read per request, so it may rotate. */
  readonly licenseKey: KeyInput;
  /** Default `country`. `insights` is GeoIP only and needed for `flagProxy` / `flagHosting`. */
  readonly service?: MaxmindService;
  /** `geoip` (paid, `https://geoip.maxmind.com`, the default) or `geolite` (free, `https://geolite.info`). */
  readonly edition?: 'geoip' | 'geolite';
  /** Overrides the edition's host; https only (loopback excepted, for fakes). */
  readonly baseUrl?: string;
}

/**
 * Defaults: `weight` 1 because the score only comes from rules the operator chose; `ttlMs`
 * 24 hours because locations change slowly and every GeoIP lookup is paid for.
 */
export const MAXMIND_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 1, ttlMs: 24 * 60 * 60 * 1000 };

/**
 * The GeoLite web service's free limit, for the quota layer: 1,000 lookups a day (as
 * MaxMind's GeoLite terms state it; not confirmed against a live account). GeoIP lookups
 * are paid per query without a call limit: give the quota a spend cap instead.
 */
export const MAXMIND_GEOLITE_LIMITS = { daily: 1000 } as const;

const HOSTS = { geoip: 'https://geoip.maxmind.com', geolite: 'https://geolite.info' } as const;
const SERVICES: readonly MaxmindService[] = ['country', 'city', 'insights'];
const OPTION = 'maxmind';
// MaxMind's error codes are fixed upper-case tokens: safe to repeat, and they help an operator.
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,39}$/;
const AUTH_CODES = new Set([
  'ACCOUNT_ID_REQUIRED',
  'ACCOUNT_ID_UNKNOWN',
  'AUTHORIZATION_INVALID',
  'LICENSE_KEY_REQUIRED',
  'USER_ID_REQUIRED',
  'USER_ID_UNKNOWN',
  'PERMISSION_REQUIRED',
]);
const QUOTA_CODES = new Set(['INSUFFICIENT_FUNDS', 'OUT_OF_QUERIES']);
const INVALID_CODES = new Set(['IP_ADDRESS_INVALID', 'IP_ADDRESS_REQUIRED']);

/** Addresses MaxMind answers with an error but that are simply not locatable: a clean answer, not a fault. */
const UNLOCATABLE: Readonly<Record<string, string>> = {
  IP_ADDRESS_RESERVED: 'private or reserved',
  IP_ADDRESS_NOT_FOUND: 'not in the database',
};

function validate(options: MaxmindWebServiceOptions): void {
  const issues = [
    ...secretIssues(options.licenseKey, `${OPTION}.licenseKey`, 'the license key from your MaxMind account'),
    ...commonOptionIssues(options, OPTION),
    ...geolocationPolicyIssues(options, OPTION),
  ];
  const { accountId, service, edition } = options;
  if (!((typeof accountId === 'number' && Number.isInteger(accountId) && accountId > 0) || (typeof accountId === 'string' && /^\d{1,12}$/.test(accountId)))) {
    issues.push(`${OPTION}.accountId: expected the numeric account id from your MaxMind account`);
  }
  if (service !== undefined && !SERVICES.includes(service)) issues.push(`${OPTION}.service: expected one of ${SERVICES.join(', ')}`);
  if (edition !== undefined && edition !== 'geoip' && edition !== 'geolite') issues.push(`${OPTION}.edition: expected 'geoip' or 'geolite'`);
  if (edition === 'geolite' && service === 'insights') issues.push(`${OPTION}.service: GeoLite offers country and city only`);
  if ((options.flagProxy === true || options.flagHosting === true) && service !== 'insights') {
    issues.push(`${OPTION}.service: flagProxy and flagHosting need 'insights' (country and city answers carry no such flags)`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/** What MaxMind's error body (`{ code, error }`) says, when the answer carries one. */
function errorCode(contentType: string | null, text: string): string | undefined {
  if (contentType === null || !contentType.toLowerCase().includes('error+json')) return undefined;
  try {
    const body = JSON.parse(text) as unknown;
    const code = isJsonObject(body) ? body['code'] : undefined;
    return typeof code === 'string' && ERROR_CODE.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function errorFor(provider: string, code: string, status: number): ProviderResponseError | undefined {
  const message = (what: string): string => `${provider}: ${what} (${code}, HTTP ${status})`;
  if (AUTH_CODES.has(code)) return new ProviderResponseError('auth', message('credentials refused'), { status });
  if (QUOTA_CODES.has(code)) return new ProviderResponseError('quota-exceeded', message('out of queries'), { status });
  if (INVALID_CODES.has(code)) return new ProviderResponseError('invalid-input', message('address refused as invalid'), { status });
  return undefined;
}

function queriesRemaining(body: unknown): UpstreamLimits | undefined {
  const maxmind = isJsonObject(body) ? body['maxmind'] : undefined;
  const remaining = isJsonObject(maxmind) ? maxmind['queries_remaining'] : undefined;
  return typeof remaining === 'number' && Number.isInteger(remaining) && remaining >= 0 ? { remaining } : undefined;
}

/**
 * Creates the MaxMind web service provider (name `maxmind`, facet `ip`).
 *
 * Sends `GET <host>/geoip/v2.1/<service>/<ip>` with HTTP Basic auth (account id, license
 * key). Score: the highest of the geolocation rules that fire; 0 when none does. `data`:
 * country, continent, city, ASN, ISP and the anonymizer / hosting flags the service returned.
 * `maxmind.queries_remaining` becomes `upstream.remaining`. Error codes: `IP_ADDRESS_RESERVED`
 * and `IP_ADDRESS_NOT_FOUND` score 0 with a reason and no data; `IP_ADDRESS_INVALID` →
 * `invalid-input`; `AUTHORIZATION_INVALID`, `LICENSE_KEY_REQUIRED`, `ACCOUNT_ID_REQUIRED`, … →
 * `auth`; `INSUFFICIENT_FUNDS`, `OUT_OF_QUERIES` → `quota-exceeded`.
 *
 * @example
 * const geo = maxmindWebService({
 *   accountId: 123456,
 *   licenseKey: process.env.MAXMIND_LICENSE_KEY ?? '',
 *   service: 'insights',
 *   denyCountries: ['KP'],
 *   flagProxy: true,
 * });
 */
export function maxmindWebService(options: MaxmindWebServiceOptions): AsyncProvider {
  validate(options);
  const base = resolveEndpoint(options.baseUrl ?? HOSTS[options.edition ?? 'geoip'], { option: `${OPTION}.baseUrl` });
  const service = options.service ?? 'country';
  const policy = createGeolocationPolicy(options);
  const name = 'maxmind';
  const authorization = (): string => `Basic ${Buffer.from(`${options.accountId}:${revealKey(options.licenseKey)}`).toString('base64')}`;

  return declareEndpoints({
    name,
    version: '1',
    facets: ['ip'],
    defaults: {
      weight: options.weight ?? MAXMIND_DEFAULTS.weight,
      ttlMs: options.ttlMs ?? MAXMIND_DEFAULTS.ttlMs,
      ...(options.edition === 'geolite' ? { limits: MAXMIND_GEOLITE_LIMITS } : {}),
    },
    async check(subject, { signal }): Promise<ProviderResult> {
      if (!subject.ip) return { score: 0, reasons: [] };
      const url = endpointUrl(base, `/geoip/v2.1/${service}/${encodeURIComponent(subject.ip)}`);
      const answer = await httpRequest({
        provider: name,
        url,
        signal,
        headers: { authorization: authorization(), accept: 'application/json' },
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      });
      const contentType = answer.headers.get('content-type');
      const failure = classifyStatus(name, answer.status, answer.headers, Date.now());
      if (failure !== undefined) {
        const code = errorCode(contentType, answer.text);
        if (code === undefined) throw failure;
        const unlocatable = UNLOCATABLE[code];
        if (unlocatable !== undefined) return { score: 0, reasons: [`IP address is ${unlocatable} (MaxMind)`] };
        throw errorFor(name, code, answer.status) ?? failure;
      }
      if (!isJsonContentType(contentType)) {
        throw new ProviderResponseError('malformed', `${name}: answer is not JSON (wrong content type)`, { status: answer.status });
      }
      const body = parseJsonBody(name, answer.text);
      return scoreMaxmindFacts(parseMaxmindRecord(body, name), policy, name, queriesRemaining(body));
    },
  }, [base]);
}
