/**
 * Reading an ip-api.com `/json/<ip>` answer and its `X-Rl` / `X-Ttl` rate headers. The
 * service answers HTTP 200 for failures too, with `status: "fail"` and a fixed message.
 */
import { ProviderResponseError } from '@formsecurity/core';
import type { UpstreamLimits } from '@formsecurity/core';
import type { ResponseHeaders } from '../http.js';
import { definedFields, isJsonObject, jsonFields } from '../json-fields.js';

/** The fields the provider asks for: enough for the policy, nothing finer than the ISP (no coordinates, no echo of the address). */
export const IP_API_FIELDS = ['status', 'message', 'country', 'countryCode', 'isp', 'org', 'as', 'mobile', 'proxy', 'hosting'] as const;

/** A located address. */
export interface IpApiLocation {
  readonly country?: string;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode?: string;
  readonly isp?: string;
  readonly org?: string;
  /** e.g. `AS3320 Deutsche Telekom AG`. */
  readonly as?: string;
  readonly mobile?: boolean;
  /** Proxy, VPN or Tor exit. */
  readonly proxy?: boolean;
  /** Hosting provider or data centre. */
  readonly hosting?: boolean;
}

/** A parsed answer: a location, or an address the service does not locate (private or reserved ranges). */
export type IpApiAnswer =
  | { readonly status: 'located'; readonly location: IpApiLocation }
  | { readonly status: 'unlocatable'; readonly range: 'private' | 'reserved' };

/**
 * Parses a 200 answer. `status: "fail"` with `private range` or `reserved range` is an
 * address nobody can locate — an answer, not an error; `invalid query` is
 * `ProviderResponseError('invalid-input')`; any other failure is `http`. The service's
 * message is matched, never repeated.
 *
 * @example
 * parseIpApiAnswer({ status: 'success', country: 'Germany', countryCode: 'DE', proxy: false });
 * // { status: 'located', location: { country: 'Germany', countryCode: 'DE', proxy: false } }
 * parseIpApiAnswer({ status: 'fail', message: 'private range' });
 * // { status: 'unlocatable', range: 'private' }
 */
export function parseIpApiAnswer(body: unknown, provider = 'ip-api'): IpApiAnswer {
  const read = jsonFields(provider);
  if (!isJsonObject(body)) throw read.malformed('answer is not a JSON object');
  if (body['status'] === 'fail') {
    const message = typeof body['message'] === 'string' ? body['message'].toLowerCase() : '';
    if (message === 'private range') return { status: 'unlocatable', range: 'private' };
    if (message === 'reserved range') return { status: 'unlocatable', range: 'reserved' };
    if (message === 'invalid query') {
      throw new ProviderResponseError('invalid-input', `${provider}: the service refused the address as invalid`);
    }
    throw new ProviderResponseError('http', `${provider}: the service reported a failure (status fail)`);
  }
  if (body['status'] !== 'success') throw read.malformed('answer has no success status');
  return {
    status: 'located',
    location: definedFields({
      country: read.optionalString(body, 'country'),
      countryCode: read.optionalString(body, 'countryCode'),
      isp: read.optionalString(body, 'isp'),
      org: read.optionalString(body, 'org'),
      as: read.optionalString(body, 'as'),
      mobile: read.optionalBoolean(body, 'mobile'),
      proxy: read.optionalBoolean(body, 'proxy'),
      hosting: read.optionalBoolean(body, 'hosting'),
    }),
  };
}

function wholeNumber(value: string | null): number | undefined {
  if (value === null || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Reads `X-Rl` (requests left in the window) and `X-Ttl` (seconds until it resets). At
 * `X-Rl: 0` the service asks for silence until the reset, so `retryAfterMs` is set too.
 *
 * @example
 * readIpApiLimits(new Headers({ 'x-rl': '0', 'x-ttl': '42' }), 0);
 * // { remaining: 0, resetAtMs: 42000, retryAfterMs: 42000 }
 */
export function readIpApiLimits(headers: ResponseHeaders, nowMs: number): UpstreamLimits {
  const remaining = wholeNumber(headers.get('x-rl'));
  const ttlSeconds = wholeNumber(headers.get('x-ttl'));
  const ttlMs = ttlSeconds === undefined ? undefined : ttlSeconds * 1000;
  return {
    ...(remaining === undefined ? {} : { remaining }),
    ...(ttlMs === undefined ? {} : { resetAtMs: nowMs + ttlMs }),
    ...(remaining === 0 && ttlMs !== undefined ? { retryAfterMs: ttlMs } : {}),
  };
}
