/**
 * The rules that turn a geolocation answer into a risk score, shared by every
 * geolocation provider (ip-api, MaxMind web service, MaxMind database). Where an address
 * is, or that it is a VPN, is not abuse by itself: every rule is off until the operator
 * turns it on, so an unconfigured geolocation provider scores 0 and only adds `data`.
 */

/** The score each rule gives when it fires; the highest fired score is the provider's score. */
export interface GeolocationScores {
  /** The country is in `denyCountries` (default 1). */
  readonly deniedCountry: number;
  /** `allowCountries` is set and the country is not in it (default 0.6: a challenge, travellers can pass). */
  readonly outsideAllowedCountries: number;
  /** `flagProxy` and the address is a proxy, VPN or Tor exit (default 0.5). */
  readonly proxy: number;
  /** `flagHosting` and the address belongs to a hosting provider or data centre (default 0.4). */
  readonly hosting: number;
}

/** Default rule scores; with the engine's thresholds 1 blocks, 0.6 challenges, 0.4–0.5 ask for review. */
export const GEOLOCATION_SCORES: GeolocationScores = {
  deniedCountry: 1,
  outsideAllowedCountries: 0.6,
  proxy: 0.5,
  hosting: 0.4,
};

/** Policy options every geolocation provider accepts. */
export interface GeolocationPolicyOptions {
  /** ISO 3166-1 alpha-2 codes whose addresses score `scores.deniedCountry`. */
  readonly denyCountries?: readonly string[];
  /** ISO 3166-1 alpha-2 codes; an address located elsewhere scores `scores.outsideAllowedCountries`. */
  readonly allowCountries?: readonly string[];
  /** Score proxies, VPNs and Tor exits (default false). */
  readonly flagProxy?: boolean;
  /** Score hosting providers and data centres (default false). */
  readonly flagHosting?: boolean;
  /** Overrides of {@link GEOLOCATION_SCORES}, each 0..1. */
  readonly scores?: Partial<GeolocationScores>;
}

/** What a geolocation provider learnt about an address; unknown facts are left out. */
export interface GeolocationFacts {
  /** ISO 3166-1 alpha-2, upper case. */
  readonly countryCode?: string;
  readonly proxy?: boolean;
  readonly hosting?: boolean;
}

/** The policy's conclusion about one address. */
export interface GeolocationVerdict {
  readonly score: number;
  readonly reasons: string[];
}

/** A validated policy. */
export interface GeolocationPolicy {
  /** `service` names the source in reasons, e.g. `ip-api`. */
  evaluate(facts: GeolocationFacts, service: string): GeolocationVerdict;
}

const COUNTRY_CODE = /^[A-Za-z]{2}$/;

function countryListIssues(list: readonly string[] | undefined, key: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length === 0) return [`${key}: expected a non-empty list of two-letter country codes`];
  const issues: string[] = [];
  list.forEach((code: unknown, index) => {
    if (typeof code !== 'string' || !COUNTRY_CODE.test(code)) {
      issues.push(`${key}[${index}]: expected a two-letter ISO 3166-1 country code such as "DE"`);
    }
  });
  return issues;
}

/**
 * Checks policy options; returns one issue per wrong key (empty when all is well), each
 * prefixed with `option` so the provider can report them together with its own.
 *
 * @example
 * geolocationPolicyIssues({ denyCountries: ['XYZ'] }, 'ipApi');
 * // ['ipApi.denyCountries[0]: expected a two-letter ISO 3166-1 country code such as "DE"']
 */
export function geolocationPolicyIssues(options: GeolocationPolicyOptions, option: string): string[] {
  const issues = [
    ...countryListIssues(options.denyCountries, `${option}.denyCountries`),
    ...countryListIssues(options.allowCountries, `${option}.allowCountries`),
  ];
  if (issues.length === 0 && options.denyCountries !== undefined && options.allowCountries !== undefined) {
    const denied = new Set(options.denyCountries.map((code) => code.toUpperCase()));
    const both = options.allowCountries.filter((code) => denied.has(code.toUpperCase()));
    if (both.length > 0) {
      issues.push(`${option}.allowCountries: ${both.join(', ')} also in denyCountries; a country can be in one list only`);
    }
  }
  for (const flag of ['flagProxy', 'flagHosting'] as const) {
    const value: unknown = options[flag];
    if (value !== undefined && typeof value !== 'boolean') issues.push(`${option}.${flag}: expected true or false`);
  }
  for (const [name, value] of Object.entries(options.scores ?? {})) {
    if (!(name in GEOLOCATION_SCORES)) {
      issues.push(`${option}.scores.${name}: unknown rule; expected one of ${Object.keys(GEOLOCATION_SCORES).join(', ')}`);
    } else if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1)) {
      issues.push(`${option}.scores.${name}: expected a number from 0 to 1`);
    }
  }
  return issues;
}

/**
 * Builds the policy from options already checked with {@link geolocationPolicyIssues}.
 * The score is the highest among the rules that fire. An address whose country is unknown
 * (anycast, satellite, a reserved range) fires neither country rule: the absence of a
 * location is not evidence of abuse.
 *
 * @example
 * const policy = createGeolocationPolicy({ allowCountries: ['DE', 'AT'], flagProxy: true });
 * policy.evaluate({ countryCode: 'FR', proxy: true }, 'ip-api');
 * // { score: 0.6, reasons: ['Country FR is outside the allowed countries (ip-api)', 'IP is a proxy, VPN or Tor exit (ip-api)'] }
 */
export function createGeolocationPolicy(options: GeolocationPolicyOptions): GeolocationPolicy {
  const scores: GeolocationScores = { ...GEOLOCATION_SCORES, ...options.scores };
  const denied = new Set((options.denyCountries ?? []).map((code) => code.toUpperCase()));
  const allowed = options.allowCountries === undefined ? undefined : new Set(options.allowCountries.map((code) => code.toUpperCase()));

  return {
    evaluate(facts, service) {
      let score = 0;
      const reasons: string[] = [];
      const fire = (ruleScore: number, reason: string): void => {
        score = Math.max(score, ruleScore);
        reasons.push(`${reason} (${service})`);
      };
      const country = facts.countryCode?.toUpperCase();
      if (country !== undefined) {
        if (denied.has(country)) fire(scores.deniedCountry, `Country ${country} is denied`);
        else if (allowed !== undefined && !allowed.has(country)) {
          fire(scores.outsideAllowedCountries, `Country ${country} is outside the allowed countries`);
        }
      }
      if (options.flagProxy === true && facts.proxy === true) fire(scores.proxy, 'IP is a proxy, VPN or Tor exit');
      if (options.flagHosting === true && facts.hosting === true) fire(scores.hosting, 'IP belongs to a hosting provider');
      return { score, reasons };
    },
  };
}
