/**
 * The DNS blocklist provider: asks one or more DNSBL zones (Spamhaus ZEN by default)
 * whether the client IP is listed, over node:dns with the engine's AbortSignal.
 */
import { isIP } from 'node:net';
import { ConfigurationError } from '@formsecurity/core';
import { keyValue, revealKey } from '../provider-options.js';
import type { AsyncProvider, ProviderDefaults, ProviderResult, Subject } from '@formsecurity/core';
import { createResolver, createResolverPool, lookupA } from './lookup.js';
import { reversedIpLabels } from './query-name.js';
import { readZoneAnswer, spamhausZen } from './zones.js';
import type { DnsblZone, ZoneVerdict } from './zones.js';

/** Options of {@link dnsbl}; every one has a default. */
export interface DnsblOptions {
  /** Provider name (default `dnsbl`); give each instance its own when using several. */
  readonly name?: string;
  /** Zones to ask, in parallel (default `[spamhausZen()]`). */
  readonly zones?: readonly DnsblZone[];
  /**
   * Recursive resolvers as `ip` or `ip:port` (`[v6]:port`); default the system's. Spamhaus
   * refuses queries from public resolvers (8.8.8.8, 1.1.1.1, …): use your own.
   */
  readonly servers?: readonly string[];
  /** How long one query may take before it fails, in milliseconds (default 1000). The engine's deadline still applies. */
  readonly timeoutMs?: number;
  /** How much a full score counts in the verdict (default {@link DNSBL_DEFAULTS}.weight). */
  readonly weight?: number;
  /** How long an answer stays fresh in the cache (default 1 hour). */
  readonly ttlMs?: number;
}

/**
 * Defaults: `weight` 0.8 because an exploited-host listing (XBL) can sit on a carrier-grade
 * NAT address that many honest visitors share; `ttlMs` 1 hour because listings are added
 * and removed within hours.
 */
export const DNSBL_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 0.8, ttlMs: 60 * 60 * 1000 };

const OPTION = 'dnsbl';
const ZONE_NAME = /^(?=.{1,200}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?$/i;
const DQS_KEY = /^[a-z0-9]{1,63}$/i;

const isScore = (value: number | undefined): boolean =>
  value === undefined || (Number.isFinite(value) && value >= 0 && value <= 1);

function validateZone(zone: DnsblZone, where: string, issues: string[]): void {
  if (typeof zone.zone !== 'string' || !ZONE_NAME.test(zone.zone)) issues.push(`${where}.zone: expected a DNS zone name like zen.spamhaus.org`);
  // The key is a secret: say what is wrong, never what it is.
  const key = keyValue(zone.key);
  if (key !== undefined && !(typeof key === 'string' && DQS_KEY.test(key))) issues.push(`${where}.key: expected letters and digits only`);
  if (!isScore(zone.unknownCodeScore)) issues.push(`${where}.unknownCodeScore: expected a number from 0 to 1`);
  for (const [code, listing] of Object.entries(zone.codes ?? {})) {
    if (isIP(code) !== 4 || !code.startsWith('127.')) issues.push(`${where}.codes: ${JSON.stringify(code)} is not an address in 127.0.0.0/8`);
    if (!isScore(listing.score)) issues.push(`${where}.codes["${code}"].score: expected a number from 0 to 1`);
    if (typeof listing.list !== 'string' || listing.list === '') issues.push(`${where}.codes["${code}"].list: expected a non-empty name`);
  }
}

function validateServers(servers: readonly string[], issues: string[]): void {
  if (servers.length === 0) issues.push(`${OPTION}.servers: expected at least one resolver, or leave it out for the system's`);
  servers.forEach((server, index) => {
    try {
      createResolver({ servers: [server], timeoutMs: 1 });
    } catch {
      issues.push(`${OPTION}.servers[${index}]: expected an IP address with an optional port, e.g. 127.0.0.1:53`);
    }
  });
}

function validate(options: DnsblOptions, zones: readonly DnsblZone[]): void {
  const issues: string[] = [];
  const { name, timeoutMs, weight, ttlMs, servers } = options;
  if (name !== undefined && name.trim() === '') issues.push(`${OPTION}.name: expected a non-empty string`);
  if (zones.length === 0) issues.push(`${OPTION}.zones: expected at least one zone`);
  zones.forEach((zone, index) => validateZone(zone, `${OPTION}.zones[${index}]`, issues));
  const names = zones.map((zone) => zone.zone?.toLowerCase());
  if (new Set(names).size !== names.length) issues.push(`${OPTION}.zones: each zone may appear once`);
  if (servers !== undefined) validateServers(servers, issues);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 60_000)) {
    issues.push(`${OPTION}.timeoutMs: expected an integer from 1 to 60000`);
  }
  if (!isScore(weight)) issues.push(`${OPTION}.weight: expected a number from 0 to 1`);
  if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) issues.push(`${OPTION}.ttlMs: expected a positive number of milliseconds`);
  if (issues.length > 0) throw new ConfigurationError(issues);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Combines the zones' readings: the highest score wins; zones that failed are named when a listing still stands. */
function combine(verdicts: ReadonlyMap<string, ZoneVerdict>, unanswered: readonly string[]): ProviderResult {
  let score = 0;
  const reasons: string[] = [];
  const zones: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const [zone, verdict] of verdicts) {
    score = Math.max(score, verdict.score);
    reasons.push(...verdict.reasons);
    zones[zone] = { listed: verdict.codes.length > 0, codes: verdict.codes, lists: verdict.lists };
  }
  return { score, reasons, data: { zones, ...(unanswered.length > 0 ? { unanswered } : {}) } };
}

/**
 * Creates the DNS blocklist provider (facets `['ip']`). For each zone it resolves
 * `<reversed IP>.<zone>` (IPv4 octets or IPv6 nibbles; with a DQS key
 * `<reversed IP>.<key>.<zone>`):
 *
 * - NXDOMAIN / no A record → not listed (score 0);
 * - A records in 127.0.0.0/8 → the zone's codes; the score is the highest listing's
 *   (Spamhaus PBL scores 0 by default and is kept as data);
 * - 127.255.255.x (zone typo, public resolver, too many queries) → `ProviderResponseError('http')`,
 *   never "listed", so it counts against the breaker; SERVFAIL/REFUSED → `http`;
 *   no answer in `timeoutMs` → `network`; an answer outside 127/8 → `malformed`.
 *
 * With several zones, a listing stands even if another zone failed (the failed zones are
 * named in `data.unanswered`); with no listing, any zone's failure fails the check.
 * `data.zones[zone]` holds `{ listed, codes, lists }` — never the address or a key.
 *
 * @example
 * const provider = dnsbl({ servers: ['127.0.0.1:53'] }); // Spamhaus ZEN through a local resolver
 * const result = await provider.check({ ip: '203.0.113.7' }, { signal: AbortSignal.timeout(100) });
 * // { score: 1, reasons: ['IP listed in Spamhaus ZEN: SBL (spam source)'], data: { zones: { 'zen.spamhaus.org': {...} } } }
 */
export function dnsbl(options: DnsblOptions = {}): AsyncProvider {
  const zones = options.zones ?? [spamhausZen()];
  validate(options, zones);
  const name = options.name ?? 'dnsbl';
  const settings = {
    timeoutMs: options.timeoutMs ?? 1000,
    ...(options.servers === undefined ? {} : { servers: options.servers }),
  };
  const resolvers = createResolverPool(settings);

  async function check(subject: Subject, { signal }: { signal: AbortSignal }): Promise<ProviderResult> {
    const reversed = subject.ip === undefined ? undefined : reversedIpLabels(subject.ip);
    if (reversed === undefined) return { score: 0, reasons: [] };
    const asked = zones.filter((zone) => reversed.version === 4 || zone.ipv6 !== false);
    if (asked.length === 0) return { score: 0, reasons: [], data: { zones: {} } };
    if (signal.aborted) throw abortReason(signal);

    // A resolver of its own for this check: cancelling it on abort touches no other request.
    const resolver = resolvers.acquire();
    const cancel = (): void => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const outcomes = await Promise.allSettled(
        asked.map(async (zone) => {
          const query = zone.key === undefined ? `${reversed.labels}.${zone.zone}` : `${reversed.labels}.${revealKey(zone.key)}.${zone.zone}`;
          return readZoneAnswer(name, zone, await lookupA(name, resolver, query, signal));
        }),
      );
      if (signal.aborted) throw abortReason(signal);
      const verdicts = new Map<string, ZoneVerdict>();
      const unanswered: string[] = [];
      let firstFailure: unknown;
      outcomes.forEach((outcome, index) => {
        const zone = (asked[index] as DnsblZone).zone;
        if (outcome.status === 'fulfilled') verdicts.set(zone, outcome.value);
        else {
          unanswered.push(zone);
          firstFailure ??= outcome.reason;
        }
      });
      const result = combine(verdicts, unanswered);
      if (unanswered.length > 0 && result.score === 0) throw firstFailure;
      return result;
    } finally {
      signal.removeEventListener('abort', cancel);
      // Every query has settled (allSettled above), so the resolver is idle again.
      resolvers.release(resolver);
    }
  }

  return {
    name,
    version: '1',
    facets: ['ip'],
    defaults: { weight: options.weight ?? DNSBL_DEFAULTS.weight, ttlMs: options.ttlMs ?? DNSBL_DEFAULTS.ttlMs },
    check,
  };
}
