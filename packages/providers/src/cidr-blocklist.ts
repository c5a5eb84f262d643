/**
 * A local blocklist of IPv4 and IPv6 ranges: the application's own list of networks it
 * will not take submissions from. Never leaves the process, so it never degrades.
 */
import { readFileSync } from 'node:fs';
import { CidrSet, ConfigurationError, formatCidr, parseCidr } from '@formsecurity/core';
import type { Cidr, Provider, ProviderResult } from '@formsecurity/core';

/** Options of {@link cidrBlocklist}; give `ranges`, `file` or both. */
export interface CidrBlocklistOptions {
  /** Provider name (default `cidr-blocklist`); give each list its own when using several. */
  readonly name?: string;
  /** Ranges like `203.0.113.0/24`, `2001:db8::/32`; a bare address is a single host. */
  readonly ranges?: readonly string[];
  /** A file with one range per line; `#` starts a comment, blank lines are ignored. Read once, at creation. */
  readonly file?: string;
  /** Score of a listed address, 0..1 (default 1). */
  readonly score?: number;
}

const OPTION = 'cidrBlocklist';
// Enough of a bad line to recognise it in an error, bounded so a binary file cannot flood it.
const MAX_QUOTED_LINE = 80;

function quote(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED_LINE ? `${text.slice(0, MAX_QUOTED_LINE)}…` : text);
}

/**
 * Parses a blocklist file's text; throws `ConfigurationError` naming the file and the line
 * of the first entry that is not a range.
 *
 * @example
 * parseCidrListText('# office\n203.0.113.0/24\n\n2001:db8::/32 # lab\n', 'blocklist.txt'); // 2 ranges
 */
export function parseCidrListText(text: string, file: string): Cidr[] {
  const ranges: Cidr[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const comment = raw.indexOf('#');
    const entry = (comment === -1 ? raw : raw.slice(0, comment)).trim();
    if (entry === '') continue;
    const cidr = parseCidr(entry);
    if (cidr === undefined) {
      throw new ConfigurationError([
        `${OPTION}.file: ${file} line ${index + 1}: ${quote(entry)} is not an IP address or CIDR range`,
      ]);
    }
    ranges.push(cidr);
  }
  return ranges;
}

function readListFile(file: string): Cidr[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigurationError([
      `${OPTION}.file: cannot read ${file}${typeof code === 'string' ? ` (${code})` : ''}`,
    ]);
  }
  return parseCidrListText(text, file);
}

function buildSet(options: CidrBlocklistOptions): CidrSet {
  const set = new CidrSet();
  (options.ranges ?? []).forEach((range, index) => {
    const cidr = typeof range === 'string' ? parseCidr(range) : undefined;
    if (cidr === undefined) {
      throw new ConfigurationError([
        `${OPTION}.ranges[${index}]: ${quote(String(range))} is not an IP address or CIDR range`,
      ]);
    }
    set.add(cidr);
  });
  if (options.file !== undefined) for (const cidr of readListFile(options.file)) set.add(cidr);
  return set;
}

function validate(options: CidrBlocklistOptions): void {
  const issues: string[] = [];
  if (options.ranges === undefined && options.file === undefined) {
    issues.push(`${OPTION}: give ranges, file or both`);
  }
  if (options.score !== undefined && !(Number.isFinite(options.score) && options.score >= 0 && options.score <= 1)) {
    issues.push(`${OPTION}.score: expected a number from 0 to 1`);
  }
  if (options.name !== undefined && options.name.trim() === '') {
    issues.push(`${OPTION}.name: expected a non-empty string`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * Creates a local provider (facets `['ip']`, `local: true`) that scores addresses inside any
 * of the given ranges: listed → `score` (default 1) with a reason naming the matching range;
 * not listed → 0. IPv4-mapped IPv6 input (`::ffff:203.0.113.9`) matches IPv4 ranges.
 * Ranges are read once, at creation; a bad entry throws `ConfigurationError` there, not
 * on a request.
 *
 * @example
 * const blocklist = cidrBlocklist({ ranges: ['203.0.113.0/24', '2001:db8:bad::/48'] });
 * blocklist.check({ ip: '203.0.113.9' }, { signal: new AbortController().signal });
 * // { score: 1, reasons: ['IP in blocklist range 203.0.113.0/24'], data: { range: '203.0.113.0/24' } }
 */
export function cidrBlocklist(options: CidrBlocklistOptions): Provider {
  validate(options);
  const set = buildSet(options);
  const listedScore = options.score ?? 1;
  return {
    name: options.name ?? 'cidr-blocklist',
    facets: ['ip'],
    local: true,
    // Synchronous: a local answer needs no promise, and the engine then needs no timer.
    check(subject): ProviderResult {
      const match = subject.ip === undefined ? undefined : set.match(subject.ip);
      if (match === undefined) return { score: 0, reasons: [] };
      const range = formatCidr(match);
      return { score: listedScore, reasons: [`IP in blocklist range ${range}`], data: { range } };
    },
  };
}
