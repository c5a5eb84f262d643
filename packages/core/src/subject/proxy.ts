import { ConfigurationError } from '../errors.js';
import { CidrSet, formatIp, normalizeIp, parseCidr, parseIp } from './ip.js';
import type { ParsedIp } from './ip.js';

/**
 * Which peers may tell us the client's address.
 * - `false` (default): trust nobody; the client is the socket's peer, headers are ignored.
 * - a number N: N proxies stand in front of the app; the client is the address N hops back.
 * - a list of addresses or CIDR ranges (or the presets `loopback`, `private`): walk the
 *   chain from the socket leftwards while the current address is trusted.
 */
export type TrustProxy = false | number | readonly string[];

/** Which header carries the chain; only one is read, so a client cannot pick the other. */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

const PRESETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '169.254.0.0/16', 'fe80::/10'],
};

/** Bounds the work a hostile header can cause: the trusted hops are the rightmost entries anyway. */
const MAX_CHAIN_ENTRIES = 64;
const MAX_HEADER_LENGTH = 8192;

export interface ClientIpResult {
  readonly ip?: string;
  readonly issue?: string;
}

/** Resolves the client IP of a request from its socket peer and forwarding header. */
export type ClientIpResolver = (remoteAddress: string | undefined, header: string | undefined) => ClientIpResult;

/** Strips a port and brackets from one chain entry: `1.2.3.4:80`, `[2001:db8::1]:443`. */
function entryAddress(entry: string): string {
  const text = entry.trim();
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    return close === -1 ? text : text.slice(1, close);
  }
  const colon = text.indexOf(':');
  if (colon !== -1 && colon === text.lastIndexOf(':') && text.includes('.')) return text.slice(0, colon);
  return text;
}

/** The `for=` values of a `Forwarded` header (RFC 7239), left to right. */
function forwardedFor(header: string): string[] {
  const chain: string[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      chain.push(value);
    }
  }
  return chain;
}

function chainOf(header: string | undefined, kind: ForwardedHeader): string[] {
  if (header === undefined || header === '') return [];
  const bounded = header.length > MAX_HEADER_LENGTH ? header.slice(header.length - MAX_HEADER_LENGTH) : header;
  const entries = kind === 'forwarded' ? forwardedFor(bounded) : bounded.split(',');
  return entries.slice(-MAX_CHAIN_ENTRIES);
}

function trustedSet(list: readonly string[]): CidrSet {
  const set = new CidrSet();
  const issues: string[] = [];
  list.forEach((entry, index) => {
    const ranges = typeof entry === 'string' && Object.hasOwn(PRESETS, entry) ? (PRESETS[entry] as readonly string[]) : [entry];
    for (const range of ranges) {
      const cidr = typeof range === 'string' ? parseCidr(range) : undefined;
      if (cidr === undefined) {
        issues.push(
          `trustProxy[${index}]: expected an IP address, a CIDR range, "loopback" or "private", got ${JSON.stringify(entry)}`,
        );
      } else set.add(cidr);
    }
  });
  if (issues.length > 0) throw new ConfigurationError(issues);
  return set;
}

/**
 * Builds the resolver once from configuration (validated: a wrong setting throws a
 * ConfigurationError at start-up, never per request).
 *
 * @example
 * const resolve = createClientIpResolver({ trustProxy: ['10.0.0.0/8'] });
 * resolve('10.0.0.2', '198.51.100.9, 10.0.0.7').ip; // '198.51.100.9'
 */
export function createClientIpResolver(options: {
  trustProxy?: TrustProxy;
  header?: ForwardedHeader;
} = {}): ClientIpResolver {
  const trust = options.trustProxy ?? false;
  const header = options.header ?? 'x-forwarded-for';
  if (header !== 'x-forwarded-for' && header !== 'forwarded') {
    throw new ConfigurationError([`forwardedHeader: expected "x-forwarded-for" or "forwarded", got ${JSON.stringify(header)}`]);
  }
  if (trust === false) return byHops(0, header);
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0 || trust > MAX_CHAIN_ENTRIES) {
      throw new ConfigurationError([`trustProxy: expected false, a whole number of hops 0..${MAX_CHAIN_ENTRIES} or a list of CIDR ranges, got ${JSON.stringify(trust)}`]);
    }
    return byHops(trust, header);
  }
  if (!Array.isArray(trust)) {
    throw new ConfigurationError([`trustProxy: expected false, a number of hops or a list of CIDR ranges, got ${JSON.stringify(trust)}`]);
  }
  const set = trustedSet(trust);
  return byTrustedRanges((ip) => set.has(ip), header);
}

const NO_PEER: ClientIpResult = { issue: 'client IP: the connection has no usable peer address' };
const malformedHop = (header: ForwardedHeader): ClientIpResult => ({
  issue: `client IP: a trusted proxy forwarded a malformed address in ${header}`,
});

/**
 * A fixed number of proxies: the client is the address `hops` entries back. Only the
 * addresses' validity and canonical text matter, so a dotted quad is never turned into
 * a number and back.
 */
function byHops(hops: number, header: ForwardedHeader): ClientIpResolver {
  const malformed = malformedHop(header);
  return (remoteAddress, headerValue) => {
    let current = remoteAddress === undefined ? undefined : normalizeIp(remoteAddress);
    if (current === undefined) return NO_PEER;
    if (hops === 0) return { ip: current };
    const chain = chainOf(headerValue, header);
    for (let hop = 1; hop <= hops && chain.length > 0; hop++) {
      current = normalizeIp(entryAddress(chain.pop() as string));
      // A trusted hop handed us something that is not an address: refuse to guess.
      if (current === undefined) return malformed;
    }
    return { ip: current };
  };
}

/** Trusted ranges: walk the chain from the socket leftwards while the address is trusted. */
function byTrustedRanges(isTrusted: (ip: ParsedIp) => boolean, header: ForwardedHeader): ClientIpResolver {
  const malformed = malformedHop(header);
  return (remoteAddress, headerValue) => {
    const peer = remoteAddress === undefined ? undefined : parseIp(remoteAddress);
    if (peer === undefined) return NO_PEER;
    let current = peer;
    if (!isTrusted(current)) return { ip: formatIp(current) };
    const chain = chainOf(headerValue, header);
    while (chain.length > 0) {
      const next = parseIp(entryAddress(chain.pop() as string));
      if (next === undefined) return malformed;
      current = next;
      if (!isTrusted(current)) break;
    }
    return { ip: formatIp(current) };
  };
}
