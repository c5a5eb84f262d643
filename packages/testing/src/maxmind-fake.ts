/**
 * A loopback MaxMind GeoIP2 / GeoLite2 web service: `GET /geoip/v2.1/{country|city|insights}/<ip>`
 * with HTTP Basic auth, answering in the service's JSON with its vendor content types, its
 * `{ code, error }` error bodies, a query balance, and fault injection.
 */
import { formatCidr, normalizeIp, parseCidr, parseIp } from '@formsecurity/core';
import type { Cidr } from '@formsecurity/core';
import { startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';
import { addressClass } from './special-ranges.js';

/** Anonymizer, hosting and network traits; only Insights answers carry them. */
export interface MaxmindFakeTraits {
  readonly is_anonymous?: boolean;
  readonly is_anonymous_vpn?: boolean;
  readonly is_hosting_provider?: boolean;
  readonly is_public_proxy?: boolean;
  readonly is_residential_proxy?: boolean;
  readonly is_tor_exit_node?: boolean;
  readonly autonomous_system_number?: number;
  readonly autonomous_system_organization?: string;
  readonly isp?: string;
  readonly organization?: string;
  readonly user_type?: string;
}

/** What the fake knows about a network. */
export interface MaxmindFakeRecord {
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  /** English country name (default: the code). */
  readonly countryName?: string;
  /** Two-letter continent code. */
  readonly continent?: string;
  /** English city name; City and Insights answers only. */
  readonly city?: string;
  readonly traits?: MaxmindFakeTraits;
}

/** An answer in MaxMind's error format, `{ code, error }`, with the status the code has (or `status`). */
export interface MaxmindApiErrorFault {
  readonly kind: 'api-error';
  readonly code: string;
  readonly status?: number;
}

/** Every fault the MaxMind fake can inject. */
export type MaxmindFault = HttpFault | MaxmindApiErrorFault;

/** A running MaxMind fake. */
export interface MaxmindFake extends FakeHttpServer<MaxmindFault> {
  readonly accountId: string;
  readonly licenseKey: string;
  /** Gives a network (or one address) a record; the most specific network wins. */
  locate(network: string, record: MaxmindFakeRecord): void;
  unlocate(network: string): void;
  /** Sets the query balance; at 0 lookups answer 402 `INSUFFICIENT_FUNDS`. */
  setQueriesRemaining(queries: number): void;
  /** Forgets records, faults and recorded calls, and restores the balance. */
  reset(): void;
}

/** Options of {@link startFakeMaxmind}. */
export interface MaxmindFakeOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default `123456`. */
  readonly accountId?: string;
  /** Default `fake-maxmind-license-key`. */
  readonly licenseKey?: string;
  /** Default 10,000; each answered lookup costs one. */
  readonly queriesRemaining?: number;
  /** `geolite` answers country and city only, without the `maxmind` balance object. Default `geoip`. */
  readonly edition?: 'geoip' | 'geolite';
}

/** The HTTP status MaxMind answers with each error code. */
const STATUS_OF: Readonly<Record<string, number>> = {
  IP_ADDRESS_INVALID: 400,
  IP_ADDRESS_REQUIRED: 400,
  IP_ADDRESS_RESERVED: 400,
  IP_ADDRESS_NOT_FOUND: 404,
  ACCOUNT_ID_REQUIRED: 401,
  ACCOUNT_ID_UNKNOWN: 401,
  AUTHORIZATION_INVALID: 401,
  LICENSE_KEY_REQUIRED: 401,
  INSUFFICIENT_FUNDS: 402,
  OUT_OF_QUERIES: 402,
  PERMISSION_REQUIRED: 403,
};

const SERVICES = new Set(['country', 'city', 'insights']);
const ERROR_TYPE = 'application/vnd.maxmind.com-error+json; charset=UTF-8; version=2.0';

function errorAnswer(code: string, error: string, status = STATUS_OF[code] ?? 400): FakeAnswer {
  return { status, headers: { 'content-type': ERROR_TYPE }, body: JSON.stringify({ code, error }) };
}

function contains(cidr: Cidr, ip: { version: 4 | 6; value: bigint }): boolean {
  if (cidr.version !== ip.version) return false;
  const bits = ip.version === 4 ? 32 : 128;
  return ip.value >> BigInt(bits - cidr.prefix) === cidr.network >> BigInt(bits - cidr.prefix);
}

function credentials(header: string | undefined): { account: string; key: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? { account: decoded, key: '' } : { account: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

/**
 * Starts a MaxMind web service fake on 127.0.0.1. Located addresses answer with the
 * service's body (`continent`, `country`, `registered_country`, `traits.ip_address` /
 * `network`, `city` for City and Insights, anonymizer traits for Insights, and
 * `maxmind.queries_remaining` for GeoIP). Unlocated private or reserved addresses answer
 * 400 `IP_ADDRESS_RESERVED`, other public ones 404 `IP_ADDRESS_NOT_FOUND`, non-addresses 400
 * `IP_ADDRESS_INVALID` (the message quotes the input, as MaxMind's does). Missing or wrong
 * credentials answer 401 with `ACCOUNT_ID_REQUIRED`, `LICENSE_KEY_REQUIRED`,
 * `ACCOUNT_ID_UNKNOWN` or `AUTHORIZATION_INVALID`.
 *
 * @example
 * const fake = await startFakeMaxmind();
 * fake.locate('203.0.113.0/24', { country: 'DE', traits: { is_anonymous_vpn: true } });
 * const provider = maxmindWebService({ accountId: fake.accountId, licenseKey: fake.licenseKey, baseUrl: fake.url, service: 'insights' });
 * await fake.close();
 */
export async function startFakeMaxmind(options: MaxmindFakeOptions = {}): Promise<MaxmindFake> {
  const accountId = options.accountId ?? '123456';
  const licenseKey = options.licenseKey ?? 'fake-maxmind-license-key';
  const initialQueries = options.queriesRemaining ?? 10_000;
  const geolite = options.edition === 'geolite';
  const records: { cidr: Cidr; record: MaxmindFakeRecord }[] = [];
  let queriesRemaining = initialQueries;

  function find(ip: { version: 4 | 6; value: bigint }): { cidr: Cidr; record: MaxmindFakeRecord } | undefined {
    let best: { cidr: Cidr; record: MaxmindFakeRecord } | undefined;
    for (const entry of records) if (contains(entry.cidr, ip) && (best === undefined || entry.cidr.prefix >= best.cidr.prefix)) best = entry;
    return best;
  }

  function body(service: string, ip: string, cidr: Cidr, record: MaxmindFakeRecord): Record<string, unknown> {
    const country = { iso_code: record.country, names: { en: record.countryName ?? record.country } };
    const traits: Record<string, unknown> = { ip_address: ip, network: formatCidr(cidr) };
    if (service === 'insights') Object.assign(traits, record.traits ?? {});
    return {
      ...(record.continent === undefined ? {} : { continent: { code: record.continent } }),
      country,
      registered_country: country,
      ...(service !== 'country' && record.city !== undefined ? { city: { names: { en: record.city } } } : {}),
      traits,
      ...(geolite ? {} : { maxmind: { queries_remaining: queriesRemaining } }),
    };
  }

  function handle(request: FakeRequest, fault: MaxmindApiErrorFault | undefined): FakeAnswer {
    const match = /^\/geoip\/v2\.1\/([a-z]+)\/([^/]+)$/.exec(request.url.pathname);
    if (request.method !== 'GET' || match === null || !SERVICES.has(match[1] as string)) {
      return errorAnswer('PATH_NOT_FOUND', 'The requested path was not found', 404);
    }
    const service = match[1] as string;
    const given = credentials(request.headers.authorization);
    if (given === undefined || given.account === '') return errorAnswer('ACCOUNT_ID_REQUIRED', 'You have not supplied a MaxMind account ID');
    if (given.key === '') return errorAnswer('LICENSE_KEY_REQUIRED', 'You have not supplied a MaxMind license key');
    if (given.account !== accountId) return errorAnswer('ACCOUNT_ID_UNKNOWN', 'We could not find your account ID');
    if (given.key !== licenseKey) return errorAnswer('AUTHORIZATION_INVALID', 'Your license key is invalid');
    if (geolite && service === 'insights') return errorAnswer('PERMISSION_REQUIRED', 'GeoLite does not offer Insights');
    if (fault?.kind === 'api-error') return errorAnswer(fault.code, 'injected failure', fault.status);
    const raw = decodeURIComponent(match[2] as string);
    const parsed = parseIp(raw);
    if (parsed === undefined) return errorAnswer('IP_ADDRESS_INVALID', `The value "${raw}" is not a valid IP address`);
    const ip = normalizeIp(raw) as string;
    const found = find(parsed);
    if (found === undefined) {
      return addressClass(ip) === 'public'
        ? errorAnswer('IP_ADDRESS_NOT_FOUND', `The address ${ip} is not in our database`)
        : errorAnswer('IP_ADDRESS_RESERVED', `The IP address you provided (${ip}) is not a public IP address`);
    }
    if (queriesRemaining <= 0) return errorAnswer('INSUFFICIENT_FUNDS', 'The license key you have provided is out of queries');
    queriesRemaining -= 1;
    return {
      status: 200,
      headers: { 'content-type': `application/vnd.maxmind.com-${service}+json; charset=UTF-8; version=2.1` },
      body: JSON.stringify(body(service, ip, found.cidr, found.record)),
    };
  }

  const server = await startFakeHttpServer<MaxmindApiErrorFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    accountId,
    licenseKey,
    locate(network, record) {
      const cidr = parseCidr(network);
      if (cidr === undefined) throw new RangeError('fake: not an address or CIDR range');
      records.push({ cidr, record });
    },
    unlocate(network) {
      const cidr = parseCidr(network);
      if (cidr === undefined) return;
      const same = (entry: { cidr: Cidr }): boolean => formatCidr(entry.cidr) === formatCidr(cidr);
      for (let i = records.length - 1; i >= 0; i--) if (same(records[i] as { cidr: Cidr })) records.splice(i, 1);
    },
    setQueriesRemaining(queries) {
      if (!(Number.isInteger(queries) && queries >= 0)) throw new RangeError('fake: queries must be a whole number of at least 0');
      queriesRemaining = queries;
    },
    reset() {
      records.length = 0;
      queriesRemaining = initialQueries;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
