/**
 * The local MaxMind database provider: GeoIP2 / GeoLite2 `.mmdb` lookups in process, with
 * no network. Reading the file format is the job of the `maxmind` npm package, an optional
 * peer loaded only when a `file` is given; an application that already holds an opened
 * reader passes it instead.
 */
import { ConfigurationError, ProviderResponseError, parseIp } from '@formsecurity/core';
import type { AsyncProvider, ProviderResult } from '@formsecurity/core';
import { createGeolocationPolicy, geolocationPolicyIssues } from '../geolocation-policy.js';
import type { GeolocationPolicyOptions } from '../geolocation-policy.js';
import { parseMaxmindRecord, scoreMaxmindFacts } from './record.js';

/**
 * What the provider needs of a reader: the `maxmind` package's `Reader` fits as it is.
 * `get` answers the record of the network holding the address, or `null`.
 */
export interface MaxmindReader {
  get(ip: string): unknown;
  readonly metadata?: { readonly ipVersion?: number };
}

/** Options of {@link maxmindDatabase}: exactly one of `file` and `reader`. */
export interface MaxmindDatabaseOptions extends GeolocationPolicyOptions {
  /** Path of a `.mmdb` file, opened on first use (or by `ready()`) with the `maxmind` package. */
  readonly file?: string;
  /** A reader the application opened itself, e.g. `await maxmind.open(path, { watchForUpdates: true })`. */
  readonly reader?: MaxmindReader;
  /** Provider name (default `maxmind-db`); give each database its own when using several. */
  readonly name?: string;
  /** How much a full score counts in the verdict, 0..1 (default 1: scores come only from the operator's rules). */
  readonly weight?: number;
}

/** A local MaxMind provider; `ready()` opens the database now, so a bad path shows at start-up. */
export interface MaxmindDatabaseProvider extends AsyncProvider {
  ready(): Promise<void>;
}

const OPTION = 'maxmindDatabase';
// A variable, not a literal: bundlers leave the import to run time, and the package stays optional.
const MAXMIND_PACKAGE = 'maxmind';
const SAFE_ERROR_CODE = /^[A-Z][A-Z0-9_]{1,39}$/;

type OpenFunction = (file: string) => Promise<unknown>;

function validate(options: MaxmindDatabaseOptions): void {
  const issues = geolocationPolicyIssues(options, OPTION);
  const { file, reader, name, weight } = options;
  if ((file === undefined) === (reader === undefined)) issues.push(`${OPTION}: give exactly one of file and reader`);
  if (file !== undefined && (typeof file !== 'string' || file === '')) issues.push(`${OPTION}.file: expected the path of a .mmdb file`);
  if (reader !== undefined && typeof reader?.get !== 'function') issues.push(`${OPTION}.reader: expected an object with get(ip)`);
  if (name !== undefined && (typeof name !== 'string' || name === '')) issues.push(`${OPTION}.name: expected a non-empty string`);
  if (weight !== undefined && !(typeof weight === 'number' && weight >= 0 && weight <= 1)) {
    issues.push(`${OPTION}.weight: expected a number from 0 to 1`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

async function loadOpen(): Promise<OpenFunction> {
  try {
    const loaded = (await import(MAXMIND_PACKAGE)) as { open?: unknown; default?: { open?: unknown } };
    const open = loaded.open ?? loaded.default?.open;
    if (typeof open === 'function') return open as OpenFunction;
  } catch {
    // Reported below, with what to do about it.
  }
  throw new ConfigurationError([
    `${OPTION}.file: reading .mmdb files needs the optional package "maxmind" (npm install maxmind), ` +
      `or pass an opened reader as ${OPTION}.reader`,
  ]);
}

async function openDatabase(file: string): Promise<MaxmindReader> {
  const open = await loadOpen();
  let reader: unknown;
  try {
    reader = await open(file);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const detail = typeof code === 'string' && SAFE_ERROR_CODE.test(code) ? ` (${code})` : '';
    throw new ConfigurationError([`${OPTION}.file: cannot open ${file} as a MaxMind database${detail}`]);
  }
  if (typeof (reader as MaxmindReader | null)?.get !== 'function') {
    throw new ConfigurationError([`${OPTION}.file: the maxmind package gave no reader for ${file}`]);
  }
  return reader as MaxmindReader;
}

/**
 * Creates a local MaxMind database provider (name `maxmind-db`, facet `ip`, `local: true`:
 * never cached, rate limited or broken — a lookup takes microseconds).
 *
 * Reads Country, City, Enterprise and Anonymous IP databases alike; scores with the
 * geolocation rules (`denyCountries`, `allowCountries`, `flagProxy`, `flagHosting`), 0 when
 * none fires. `data` holds the record's facts (country, continent, city, ASN, ISP,
 * anonymizer / hosting flags). An address the database does not hold scores 0 with a reason.
 * A `file` that cannot be opened rejects each check (and `ready()`) with `ConfigurationError`;
 * it is tried again on the next check.
 *
 * @example
 * const geo = maxmindDatabase({ file: './GeoLite2-Country.mmdb', denyCountries: ['KP'] });
 * await geo.ready(); // fail at start-up rather than on the first submission
 * const engine = createFormSecurity({ providers: [geo] });
 */
export function maxmindDatabase(options: MaxmindDatabaseOptions): MaxmindDatabaseProvider {
  validate(options);
  const name = options.name ?? 'maxmind-db';
  const policy = createGeolocationPolicy(options);
  let opening: Promise<MaxmindReader> | undefined = options.reader === undefined ? undefined : Promise.resolve(options.reader);

  function reader(): Promise<MaxmindReader> {
    if (opening === undefined) {
      const attempt = openDatabase(options.file as string);
      opening = attempt;
      // A file that is missing now may be deployed later: forget the failure, try again next time.
      attempt.catch(() => {
        if (opening === attempt) opening = undefined;
      });
    }
    return opening;
  }

  return {
    name,
    version: '1',
    facets: ['ip'],
    local: true,
    defaults: { weight: options.weight ?? 1 },
    async ready() {
      await reader();
    },
    async check(subject): Promise<ProviderResult> {
      if (!subject.ip) return { score: 0, reasons: [] };
      const parsed = parseIp(subject.ip);
      if (parsed === undefined) throw new ProviderResponseError('invalid-input', `${name}: not an IP address`);
      const database = await reader();
      let record: unknown;
      try {
        record = database.get(subject.ip);
      } catch {
        // An IPv4-only database cannot hold IPv6 addresses: not there, rather than broken.
        if (parsed.version === 6 && database.metadata?.ipVersion === 4) record = null;
        else throw new ProviderResponseError('malformed', `${name}: the database lookup failed`);
      }
      if (record === null || record === undefined) return { score: 0, reasons: [`IP address is not in the database (${name})`] };
      return scoreMaxmindFacts(parseMaxmindRecord(record, name), policy, name);
    },
  };
}
