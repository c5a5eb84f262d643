/**
 * Ready-made GeoIP2-shaped test databases: a Country database and an Anonymous IP database,
 * with records in the layout MaxMind's own files use, so code written against GeoLite2 /
 * GeoIP2 reads them unchanged.
 */
import { buildMmdb } from './write.js';
import type { MmdbValue } from './encode.js';

/** One network of a Country database. */
export interface CountryNetwork {
  readonly network: string;
  /** ISO 3166-1 alpha-2, e.g. `DE`. */
  readonly country: string;
  /** Two-letter continent code, e.g. `EU` (left out of the record when not given). */
  readonly continent?: string;
  /** Where the network is registered, when it differs from `country`. */
  readonly registeredCountry?: string;
  /** Sets the deprecated `traits.is_anonymous_proxy` that Country records still carry. */
  readonly isAnonymousProxy?: boolean;
}

/** One network of an Anonymous IP database; `is_anonymous` is set when any flag is. */
export interface AnonymousNetwork {
  readonly network: string;
  readonly vpn?: boolean;
  readonly hosting?: boolean;
  readonly publicProxy?: boolean;
  readonly residentialProxy?: boolean;
  readonly torExitNode?: boolean;
}

/** Options shared by the ready-made databases. */
export interface GeoipDatabaseOptions {
  /** Default `GeoLite2-Country` / `GeoIP2-Anonymous-IP`. */
  readonly databaseType?: string;
  /** Default 6. */
  readonly ipVersion?: 4 | 6;
}

const COUNTRY_CODE = /^[A-Z]{2}$/;
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

function place(code: string, where: string): { readonly [key: string]: MmdbValue } {
  const upper = code.toUpperCase();
  if (!COUNTRY_CODE.test(upper)) throw new RangeError(`mmdb: ${where} must be a two-letter country code`);
  let name: string;
  try {
    name = regionNames.of(upper) ?? upper;
  } catch {
    name = upper;
  }
  return { iso_code: upper, names: { en: name } };
}

/**
 * Builds a GeoLite2-Country-shaped database: each network maps to
 * `{ continent?, country: { iso_code, names: { en } }, registered_country, traits? }`.
 *
 * @example
 * const bytes = buildCountryDatabase([
 *   { network: '203.0.113.0/24', country: 'DE', continent: 'EU' },
 *   { network: '2001:db8:1::/48', country: 'FR' },
 * ]);
 * await writeFile(join(dir, 'country.mmdb'), bytes);
 */
export function buildCountryDatabase(networks: readonly CountryNetwork[], options: GeoipDatabaseOptions = {}): Uint8Array {
  return buildMmdb({
    databaseType: options.databaseType ?? 'GeoLite2-Country',
    ...(options.ipVersion === undefined ? {} : { ipVersion: options.ipVersion }),
    networks: networks.map((entry, index) => ({
      network: entry.network,
      record: {
        ...(entry.continent === undefined ? {} : { continent: { code: entry.continent.toUpperCase() } }),
        country: place(entry.country, `networks[${index}].country`),
        registered_country: place(entry.registeredCountry ?? entry.country, `networks[${index}].registeredCountry`),
        ...(entry.isAnonymousProxy === true ? { traits: { is_anonymous_proxy: true } } : {}),
      },
    })),
  });
}

/**
 * Builds a GeoIP2-Anonymous-IP-shaped database: each network maps to top-level flags
 * `is_anonymous`, `is_anonymous_vpn`, `is_hosting_provider`, `is_public_proxy`,
 * `is_residential_proxy`, `is_tor_exit_node` (only the true ones, as MaxMind writes them).
 *
 * @example
 * const bytes = buildAnonymousIpDatabase([{ network: '198.51.100.0/24', vpn: true }]);
 */
export function buildAnonymousIpDatabase(networks: readonly AnonymousNetwork[], options: GeoipDatabaseOptions = {}): Uint8Array {
  return buildMmdb({
    databaseType: options.databaseType ?? 'GeoIP2-Anonymous-IP',
    ...(options.ipVersion === undefined ? {} : { ipVersion: options.ipVersion }),
    networks: networks.map((entry) => {
      const flags: Record<string, boolean> = {
        is_anonymous_vpn: entry.vpn === true,
        is_hosting_provider: entry.hosting === true,
        is_public_proxy: entry.publicProxy === true,
        is_residential_proxy: entry.residentialProxy === true,
        is_tor_exit_node: entry.torExitNode === true,
      };
      const set = Object.entries(flags).filter(([, value]) => value);
      return { network: entry.network, record: Object.fromEntries([...(set.length > 0 ? [['is_anonymous', true]] : []), ...set]) };
    }),
  });
}
