/**
 * What a blocklist zone's answers mean: each return code (an A record in 127.0.0.0/8)
 * names a list and carries a score. Spamhaus' error range 127.255.255.0/24 says the
 * lookup itself failed — never that the address is listed.
 */
import { ProviderResponseError } from '@formsecurity/core';
import type { KeyInput } from '../provider-options.js';

/** The meaning of one return code. */
export interface DnsblListing {
  /** Short list name for reasons and data, e.g. `SBL`. */
  readonly list: string;
  /** Risk 0..1 of an address with this code; 0 keeps the listing as data only. */
  readonly score: number;
  /** What the list holds, for reasons (e.g. `spam source`). */
  readonly description?: string;
}

/** One blocklist zone and how to read its answers. */
export interface DnsblZone {
  /** DNS zone queried, e.g. `zen.spamhaus.org`. Also the key of this zone in `data.zones`. */
  readonly zone: string;
  /** Name in reasons (default: the zone). */
  readonly label?: string;
  /** Return code (`127.0.0.2`) → meaning. Codes not in the map score `unknownCodeScore`. */
  readonly codes?: Readonly<Record<string, DnsblListing>>;
  /** Score of a 127.0.0.0/8 answer missing from `codes`, 0..1 (default 1: most lists answer 127.0.0.2 for "listed"). */
  readonly unknownCodeScore?: number;
  /** Whether the zone answers IPv6 names (default true); when false, IPv6 subjects skip it. */
  readonly ipv6?: boolean;
  /**
   * A Spamhaus DQS key: queries become `<reversed IP>.<key>.<zone>`. A secret: it never
   * appears in an error, a reason or `data`. A Secret is read per query, so it may rotate.
   */
  readonly key?: KeyInput;
}

/** Options of {@link spamhausZen}. */
export interface SpamhausZenOptions {
  /** A Data Query Service key: queries go to `zen.dq.spamhaus.net` with the key (required for commercial use). */
  readonly dqsKey?: KeyInput;
  /** Score of PBL (end-user ranges, .10 / .11; default 0: data only, since ordinary visitors come from them). */
  readonly pblScore?: number;
  /** Score of BCL (botnet controllers, .30; default 1). */
  readonly bclScore?: number;
  /** Score of XBL (exploited and infected hosts, .4; default 1). Carrier-grade NAT can share such an address. */
  readonly xblScore?: number;
}

/**
 * Rate guidance for Spamhaus' free public mirrors: under 300,000 queries a day, and only for
 * non-commercial use (with under 100,000 SMTP connections a day for mail). Commercial use
 * needs DQS or a data feed. Queries must come from your own resolver: public resolvers
 * get the 127.255.255.254 error answer.
 */
export const SPAMHAUS_LIMITS = { daily: 300_000 } as const;

/**
 * The Spamhaus ZEN zone with its documented return codes. PBL (.10 / .11) lists end-user
 * address ranges that should not send mail directly; people fill in forms from exactly
 * those ranges, so PBL is data only unless `pblScore` says otherwise.
 *
 * @example
 * dnsbl({ zones: [spamhausZen({ dqsKey: process.env.SPAMHAUS_DQS_KEY })], servers: ['127.0.0.1:53'] });
 */
export function spamhausZen(options: SpamhausZenOptions = {}): DnsblZone {
  const xbl = options.xblScore ?? 1;
  const pbl = options.pblScore ?? 0;
  return {
    zone: options.dqsKey === undefined ? 'zen.spamhaus.org' : 'zen.dq.spamhaus.net',
    label: 'Spamhaus ZEN',
    codes: {
      '127.0.0.2': { list: 'SBL', score: 1, description: 'spam source' },
      '127.0.0.3': { list: 'CSS', score: 1, description: 'snowshoe spam source' },
      '127.0.0.4': { list: 'XBL', score: xbl, description: 'exploited or infected host' },
      '127.0.0.5': { list: 'XBL', score: xbl, description: 'exploited or infected host' },
      '127.0.0.6': { list: 'XBL', score: xbl, description: 'exploited or infected host' },
      '127.0.0.7': { list: 'XBL', score: xbl, description: 'exploited or infected host' },
      '127.0.0.9': { list: 'DROP', score: 1, description: 'hijacked or criminal network' },
      '127.0.0.10': { list: 'PBL', score: pbl, description: 'end-user range (ISP maintained)' },
      '127.0.0.11': { list: 'PBL', score: pbl, description: 'end-user range (Spamhaus maintained)' },
      '127.0.0.30': { list: 'BCL', score: options.bclScore ?? 1, description: 'botnet controller' },
    },
    unknownCodeScore: 1,
    ipv6: true,
    ...(options.dqsKey === undefined ? {} : { key: options.dqsKey }),
  };
}

/** A zone's reading of one answer. */
export interface ZoneVerdict {
  readonly score: number;
  readonly codes: readonly string[];
  /** Distinct list names, in answer order. */
  readonly lists: readonly string[];
  readonly reasons: readonly string[];
}

// Spamhaus' documented error answers; any other 127.255.255.x is an error too.
const LOOKUP_ERRORS: Readonly<Record<string, string>> = {
  '127.255.255.252': 'the zone name is wrong',
  '127.255.255.254': 'the query came through a public or open resolver; use your own resolver or a DQS key',
  '127.255.255.255': 'too many queries from this resolver',
};

/**
 * Reads a zone's A records. An answer in 127.255.255.0/24 is a lookup error (`http`, so it
 * counts against the breaker); an answer outside 127.0.0.0/8 — a resolver that rewrites
 * NXDOMAIN into a web page's address — is `malformed`. Error messages never name the
 * queried address or a key.
 *
 * @example
 * readZoneAnswer('dnsbl', spamhausZen(), ['127.0.0.2', '127.0.0.9']);
 * // { score: 1, codes: [...], lists: ['SBL', 'DROP'], reasons: ['IP listed in Spamhaus ZEN: SBL (spam source)', ...] }
 */
export function readZoneAnswer(provider: string, zone: DnsblZone, addresses: readonly string[]): ZoneVerdict {
  const label = zone.label ?? zone.zone;
  let score = 0;
  const lists: string[] = [];
  const reasons: string[] = [];
  for (const address of addresses) {
    if (address.startsWith('127.255.255.')) {
      const meaning = LOOKUP_ERRORS[address] ?? 'the list reported an error';
      throw new ProviderResponseError('http', `${provider}: ${label} refused the lookup (${address}: ${meaning})`);
    }
    if (!address.startsWith('127.')) {
      throw new ProviderResponseError('malformed', `${provider}: ${label} answered outside 127.0.0.0/8 (is the resolver rewriting NXDOMAIN?)`);
    }
    const listing = zone.codes?.[address] ?? { list: address, score: zone.unknownCodeScore ?? 1 };
    if (!lists.includes(listing.list)) {
      lists.push(listing.list);
      if (listing.score > 0) {
        const about = listing.description === undefined ? '' : ` (${listing.description})`;
        reasons.push(`IP listed in ${label}: ${listing.list}${about}`);
      }
    }
    score = Math.max(score, listing.score);
  }
  return { score, codes: [...addresses], lists, reasons };
}
