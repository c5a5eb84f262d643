/**
 * Reading a MaxMind GeoIP2 / GeoLite2 record — the same shape from the web service and from
 * a local `.mmdb` — into the facts FormSecurity keeps, and scoring them with the
 * geolocation policy. Country and City records carry `country`, `continent`, `city`;
 * Insights answers and Enterprise records add `traits.*` anonymizer flags; the Anonymous IP
 * database has those flags at the top level. All are read; every field is optional.
 */
import type { ProviderResult, UpstreamLimits } from '@formsecurity/core';
import type { GeolocationPolicy } from '../geolocation-policy.js';
import { definedFields, isJsonObject, jsonFields } from '../json-fields.js';
import type { JsonFields, JsonObject } from '../json-fields.js';

/** What a MaxMind record says about an address (never the address or its network). */
export interface MaxmindFacts {
  /** ISO 3166-1 alpha-2 of the country the address is in. */
  readonly countryCode?: string;
  /** English country name. */
  readonly country?: string;
  readonly continentCode?: string;
  /** English city name (City and Insights only). */
  readonly city?: string;
  readonly asn?: number;
  readonly asOrganization?: string;
  readonly isp?: string;
  readonly organization?: string;
  /** e.g. `residential`, `hosting`, `business` (Insights). */
  readonly userType?: string;
  readonly isAnonymous?: boolean;
  readonly isAnonymousVpn?: boolean;
  readonly isHostingProvider?: boolean;
  readonly isPublicProxy?: boolean;
  readonly isResidentialProxy?: boolean;
  readonly isTorExitNode?: boolean;
}

const PROXY_FLAGS = ['isAnonymousVpn', 'isPublicProxy', 'isResidentialProxy', 'isTorExitNode'] as const;

function englishName(read: JsonFields, place: JsonObject | undefined): string | undefined {
  const names = place === undefined ? undefined : read.optionalObject(place, 'names');
  return names === undefined ? undefined : read.optionalString(names, 'en');
}

/**
 * A field from `traits` (web service, Enterprise database) or else from the top level (the
 * Anonymous IP, ASN and ISP databases put the same fields there).
 */
function traitReader(read: JsonFields, record: JsonObject, traits: JsonObject | undefined) {
  const sources = traits === undefined ? [record] : [traits, record];
  const first = <T>(get: (source: JsonObject) => T | undefined): T | undefined => {
    for (const source of sources) {
      const value = get(source);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  return {
    flag: (field: string) => first((source) => read.optionalBoolean(source, field)),
    text: (field: string) => first((source) => read.optionalString(source, field)),
    count: (field: string) => first((source) => read.optionalNumber(source, field, { min: 0 })),
  };
}

/**
 * Reads a record; a record of the wrong shape is `ProviderResponseError('malformed')`.
 * The deprecated `traits.is_anonymous_proxy` of Country / City records counts as `isAnonymous`.
 *
 * @example
 * parseMaxmindRecord({ country: { iso_code: 'DE', names: { en: 'Germany' } }, continent: { code: 'EU' } });
 * // { countryCode: 'DE', country: 'Germany', continentCode: 'EU' }
 */
export function parseMaxmindRecord(record: unknown, provider = 'maxmind'): MaxmindFacts {
  const read = jsonFields(provider);
  if (!isJsonObject(record)) throw read.malformed('record is not an object');
  const country = read.optionalObject(record, 'country');
  const continent = read.optionalObject(record, 'continent');
  const city = read.optionalObject(record, 'city');
  const traits = read.optionalObject(record, 'traits');
  const trait = traitReader(read, record, traits);
  // Country and City records mark anonymous proxies with the deprecated is_anonymous_proxy.
  const legacyAnonymousProxy = traits === undefined ? undefined : read.optionalBoolean(traits, 'is_anonymous_proxy');
  return definedFields({
    countryCode: country === undefined ? undefined : read.optionalString(country, 'iso_code'),
    country: englishName(read, country),
    continentCode: continent === undefined ? undefined : read.optionalString(continent, 'code'),
    city: englishName(read, city),
    asn: trait.count('autonomous_system_number'),
    asOrganization: trait.text('autonomous_system_organization'),
    isp: trait.text('isp'),
    organization: trait.text('organization'),
    userType: trait.text('user_type'),
    isAnonymous: trait.flag('is_anonymous') ?? (legacyAnonymousProxy === true ? true : undefined),
    isAnonymousVpn: trait.flag('is_anonymous_vpn'),
    isHostingProvider: trait.flag('is_hosting_provider'),
    isPublicProxy: trait.flag('is_public_proxy'),
    isResidentialProxy: trait.flag('is_residential_proxy'),
    isTorExitNode: trait.flag('is_tor_exit_node'),
  });
}

/**
 * Scores MaxMind facts with the geolocation policy: a VPN, public or residential proxy or
 * Tor exit flag is a proxy (so is `is_anonymous` without the hosting flag); the
 * hosting-provider flag is hosting. `data` holds the facts.
 *
 * @example
 * scoreMaxmindFacts({ countryCode: 'FR', isAnonymousVpn: true }, createGeolocationPolicy({ flagProxy: true }), 'maxmind');
 * // { score: 0.5, reasons: ['IP is a proxy, VPN or Tor exit (maxmind)'], data: { countryCode: 'FR', isAnonymousVpn: true } }
 */
export function scoreMaxmindFacts(
  facts: MaxmindFacts,
  policy: GeolocationPolicy,
  service: string,
  upstream?: UpstreamLimits,
): ProviderResult {
  // MaxMind sets is_anonymous for hosting providers too: on its own it only means a proxy
  // when the record does not say hosting.
  const proxy = PROXY_FLAGS.some((flag) => facts[flag] === true) || (facts.isAnonymous === true && facts.isHostingProvider !== true);
  const verdict = policy.evaluate(
    definedFields({ countryCode: facts.countryCode, proxy, hosting: facts.isHostingProvider }),
    service,
  );
  return {
    score: verdict.score,
    reasons: verdict.reasons,
    data: { ...facts },
    ...(upstream === undefined ? {} : { upstream }),
  };
}
