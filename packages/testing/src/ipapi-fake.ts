/**
 * A loopback ip-api.com: `GET /json/<ip>?fields=..` in the service's JSON format, with its
 * `status: "fail"` answers, its `X-Rl` / `X-Ttl` rate window and 429, an optional pro key,
 * and fault injection.
 */
import { normalizeIp } from '@formsecurity/core';
import { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';
import { addressClass } from './special-ranges.js';

/** What the fake answers for one address; unset fields take {@link IP_API_FAKE_DEFAULT_LOCATION}'s. */
export interface IpApiFakeLocation {
  readonly country?: string;
  readonly countryCode?: string;
  readonly regionName?: string;
  readonly city?: string;
  readonly lat?: number;
  readonly lon?: number;
  readonly timezone?: string;
  readonly isp?: string;
  readonly org?: string;
  readonly as?: string;
  readonly mobile?: boolean;
  readonly proxy?: boolean;
  readonly hosting?: boolean;
}

/** The answer for public addresses no test located. */
export const IP_API_FAKE_DEFAULT_LOCATION: Required<IpApiFakeLocation> = {
  country: 'United States',
  countryCode: 'US',
  regionName: 'Virginia',
  city: 'Ashburn',
  lat: 39.03,
  lon: -77.5,
  timezone: 'America/New_York',
  isp: 'Example ISP',
  org: 'Example Org',
  as: 'AS64496 Example ISP',
  mobile: false,
  proxy: false,
  hosting: false,
};

/** A `{ status: "fail", message }` answer (HTTP 200), e.g. `invalid query`. */
export interface IpApiFailFault {
  readonly kind: 'fail';
  readonly message: string;
}

/** Every fault the ip-api fake can inject. */
export type IpApiFault = HttpFault | IpApiFailFault;

/** A running ip-api fake. */
export interface IpApiFake extends FakeHttpServer<IpApiFault> {
  /** Gives an address a location; this wins over the private / reserved range answers. */
  locate(ip: string, location?: IpApiFakeLocation): void;
  unlocate(ip: string): void;
  /** Sets the rate window: requests left and seconds until it resets. At 0 left, the next request is a 429. */
  setWindow(window: { readonly remaining: number; readonly ttlSeconds?: number }): void;
  /** Forgets locations, faults and recorded calls, and refills the window. */
  reset(): void;
}

/** Options of {@link startFakeIpApi}. */
export interface IpApiFakeOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Behave as the pro endpoint: require `key=<key>` (403 otherwise), no rate window. */
  readonly key?: string;
  /** Requests per window (default 45, the free tier's per minute). */
  readonly requestsPerWindow?: number;
  /** What `X-Ttl` says (default 60). The fake has no clock: the window only refills on `setWindow` or `reset`. */
  readonly ttlSeconds?: number;
}

// The fields ip-api answers when a request names none.
const DEFAULT_FIELDS = ['status', 'message', 'country', 'countryCode', 'region', 'regionName', 'city', 'zip', 'lat', 'lon', 'timezone', 'isp', 'org', 'as', 'query'];

function pick(body: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  for (const field of fields) if (body[field] !== undefined) answer[field] = body[field];
  // The real service always says whether it succeeded, asked or not.
  answer['status'] = body['status'];
  return answer;
}

/**
 * Starts an ip-api fake on 127.0.0.1. Answers as the service does: located addresses with
 * `status: "success"` and the requested `fields` only; unlocated private and reserved
 * addresses (documentation ranges such as 203.0.113.0/24 included) with `private range` /
 * `reserved range`; other public addresses with {@link IP_API_FAKE_DEFAULT_LOCATION};
 * anything that is not an address with `invalid query`. Without `key`, each answer
 * carries `X-Rl` and `X-Ttl`, and a request with none left gets 429.
 *
 * @example
 * const fake = await startFakeIpApi();
 * fake.locate('203.0.113.7', { countryCode: 'DE', country: 'Germany', hosting: true });
 * const provider = ipApi({ baseUrl: fake.url, flagHosting: true });
 * fake.setWindow({ remaining: 0, ttlSeconds: 30 }); // the next request: 429, X-Ttl: 30
 * await fake.close();
 */
export async function startFakeIpApi(options: IpApiFakeOptions = {}): Promise<IpApiFake> {
  const perWindow = options.requestsPerWindow ?? 45;
  const locations = new Map<string, IpApiFakeLocation>();
  let remaining = perWindow;
  let ttlSeconds = options.ttlSeconds ?? 60;

  function lookup(raw: string): Record<string, unknown> {
    const ip = normalizeIp(raw);
    if (ip === undefined) return { status: 'fail', message: 'invalid query', query: raw };
    const location = locations.get(ip);
    if (location !== undefined) return { status: 'success', ...IP_API_FAKE_DEFAULT_LOCATION, ...location, query: ip };
    const range = addressClass(ip);
    if (range === 'private') return { status: 'fail', message: 'private range', query: ip };
    if (range === 'reserved') return { status: 'fail', message: 'reserved range', query: ip };
    return { status: 'success', ...IP_API_FAKE_DEFAULT_LOCATION, query: ip };
  }

  function handle(request: FakeRequest, fault: IpApiFailFault | undefined): FakeAnswer {
    const match = /^\/json(?:\/(.*))?$/.exec(request.url.pathname);
    if (request.method !== 'GET' || match === null) return { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' };
    if (options.key !== undefined && request.url.searchParams.get('key') !== options.key) {
      return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' };
    }
    let headers: Record<string, string> = {};
    if (options.key === undefined) {
      if (remaining <= 0) {
        return { status: 429, headers: { 'content-type': 'text/plain', 'x-rl': '0', 'x-ttl': String(ttlSeconds) }, body: 'Too Many Requests' };
      }
      remaining -= 1;
      headers = { 'x-rl': String(remaining), 'x-ttl': String(ttlSeconds) };
    }
    const fieldsParam = request.url.searchParams.get('fields');
    const fields = fieldsParam === null ? DEFAULT_FIELDS : fieldsParam.split(',').map((field) => field.trim());
    // Without an address in the path, ip-api locates the caller: here always loopback.
    const target = decodeURIComponent(match[1] ?? '127.0.0.1');
    const body = fault?.kind === 'fail' ? { status: 'fail', message: fault.message, query: target } : lookup(target);
    return jsonAnswer(pick(body, fields), 200, { 'content-type': 'application/json; charset=utf-8', ...headers });
  }

  const server = await startFakeHttpServer<IpApiFailFault>({
    handle,
    redactQuery: ['key'],
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    locate(ip, location = {}) {
      locations.set(normalizeIp(ip) ?? ip.trim(), location);
    },
    unlocate(ip) {
      locations.delete(normalizeIp(ip) ?? ip.trim());
    },
    setWindow(window) {
      if (!(Number.isInteger(window.remaining) && window.remaining >= 0)) {
        throw new RangeError('fake: remaining must be a whole number of at least 0');
      }
      if (window.ttlSeconds !== undefined && !(Number.isInteger(window.ttlSeconds) && window.ttlSeconds >= 0)) {
        throw new RangeError('fake: ttlSeconds must be a whole number of at least 0');
      }
      remaining = window.remaining;
      if (window.ttlSeconds !== undefined) ttlSeconds = window.ttlSeconds;
    },
    reset() {
      locations.clear();
      remaining = perWindow;
      ttlSeconds = options.ttlSeconds ?? 60;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
