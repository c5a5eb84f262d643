/**
 * IP address parsing, normalisation and CIDR matching without regular expressions,
 * so hostile input cannot push it into a slow path: every loop is bounded by the
 * (capped) input length.
 */

/** An IP address as a version and its value as an unsigned integer. */
export interface ParsedIp {
  readonly version: 4 | 6;
  readonly value: bigint;
}

const MAX_IP_LENGTH = 64;

function parseIPv4(text: string): bigint | undefined {
  const value = parseIPv4Number(text);
  return value === undefined ? undefined : BigInt(value);
}

/** A dotted quad as an unsigned 32-bit number, in one pass over the characters (no split, no BigInt). */
function parseIPv4Number(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      continue;
    }
    const digit = code - 48;
    if (digit < 0 || digit > 9) return undefined;
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (digits === 1 && octet === 0) return undefined;
    octet = octet * 10 + digit;
    digits++;
    if (octet > 255) return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

function parseHextet(group: string): number | undefined {
  if (group.length === 0 || group.length > 4) return undefined;
  let value = 0;
  for (let i = 0; i < group.length; i++) {
    const code = group.charCodeAt(i);
    let digit: number;
    if (code >= 48 && code <= 57) digit = code - 48;
    else if (code >= 97 && code <= 102) digit = code - 87;
    else if (code >= 65 && code <= 70) digit = code - 55;
    else return undefined;
    value = value * 16 + digit;
  }
  return value;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else {
      const hextet = parseHextet(part);
      if (hextet === undefined) return undefined;
      groups.push(hextet);
    }
  }
  return groups;
}

function parseIPv6(text: string): bigint | undefined {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  const gap = address.indexOf('::');
  let groups: number[] | undefined;
  if (gap === -1) {
    groups = parseGroups(address);
    if (groups === undefined || groups.length !== 8) return undefined;
  } else {
    if (address.indexOf('::', gap + 1) !== -1) return undefined;
    const head = parseGroups(address.slice(0, gap));
    const tail = parseGroups(address.slice(gap + 2));
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/**
 * Parses an IPv4 or IPv6 address. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) becomes IPv4;
 * brackets and an IPv6 zone are accepted and dropped. Anything else is `undefined`.
 */
export function parseIp(input: string): ParsedIp | undefined {
  let text = input.trim();
  if (text.length === 0 || text.length > MAX_IP_LENGTH) return undefined;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (!text.includes(':')) {
    const v4 = parseIPv4(text);
    return v4 === undefined ? undefined : { version: 4, value: v4 };
  }
  const v6 = parseIPv6(text);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/** Writes an address in its canonical form: dotted quad, or RFC 5952 IPv6. */
export function formatIp(ip: ParsedIp): string {
  if (ip.version === 4) {
    // A plain number: four BigInt shifts cost more than the rest of the formatting.
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  // The longest run of two or more zero groups is written as "::" (the first on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Whether `text` is already a dotted quad in canonical form (the common case, checked without BigInt). */
function isCanonicalIPv4(text: string): boolean {
  if (text.length < 7 || text.length > 15) return false;
  let octets = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i === text.length ? 46 : text.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || value > 255) return false;
      octets++;
      digits = 0;
      value = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits === 1 && value === 0) return false; // a leading zero
      value = value * 10 + (code - 48);
      digits++;
    } else return false;
  }
  return octets === 4;
}

/** Parses and writes an address canonically; `undefined` when it is not an IP address. */
export function normalizeIp(input: string): string | undefined {
  if (isCanonicalIPv4(input)) return input;
  const parsed = parseIp(input);
  return parsed === undefined ? undefined : formatIp(parsed);
}

/** The 4 or 16 bytes of an address, most significant first (for DNSBL names and hashing). */
export function ipBytes(ip: ParsedIp): Uint8Array {
  const length = ip.version === 4 ? 4 : 16;
  const bytes = new Uint8Array(length);
  let value = ip.value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

/** One CIDR range, e.g. `203.0.113.0/24` or `2001:db8::/32`. */
export interface Cidr {
  readonly version: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

const bitsOf = (version: 4 | 6): number => (version === 4 ? 32 : 128);

function maskOf(version: 4 | 6, prefix: number): bigint {
  const bits = BigInt(bitsOf(version));
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** Parses `address[/prefix]`; a bare address is a single-host range. */
export function parseCidr(input: string): Cidr | undefined {
  const text = input.trim();
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const bits = bitsOf(ip.version);
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (prefixText.length === 0 || prefixText.length > 3) return undefined;
    prefix = Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0) return undefined;
    // An IPv4-mapped range written in IPv6 ("::ffff:10.0.0.0/104") keeps its IPv4 meaning.
    if (ip.version === 4 && text.includes(':')) prefix -= 96;
    if (prefix < 0 || prefix > bits) return undefined;
  }
  return { version: ip.version, network: ip.value & maskOf(ip.version, prefix), prefix };
}

/**
 * A set of CIDR ranges answering "is this address inside?" in time proportional to the
 * number of distinct prefix lengths, not the number of ranges.
 *
 * @example
 * const set = CidrSet.from(['10.0.0.0/8', '2001:db8::/32']);
 * set.has('10.1.2.3'); // true
 */
export class CidrSet {
  /** Per version, one entry per distinct prefix length (shortest first), its mask computed once. */
  private readonly byPrefix: Record<4 | 6, { readonly prefix: number; readonly mask: bigint; readonly networks: Set<bigint> }[]> = {
    4: [],
    6: [],
  };
  /**
   * The IPv4 levels again in plain numbers, so a dotted quad is matched without a BigInt
   * (the common case, on every request through a blocklist).
   */
  private readonly v4Levels: { readonly prefix: number; readonly mask: number; readonly networks: Set<number> }[] = [];
  private count = 0;

  /** Builds a set; throws a `TypeError` naming the first entry that is not a range. */
  static from(entries: Iterable<string>): CidrSet {
    const set = new CidrSet();
    for (const entry of entries) {
      const cidr = parseCidr(entry);
      if (cidr === undefined) throw new TypeError(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
      set.add(cidr);
    }
    return set;
  }

  add(cidr: Cidr): void {
    const list = this.byPrefix[cidr.version];
    let level = list.find((entry) => entry.prefix === cidr.prefix);
    if (level === undefined) {
      level = { prefix: cidr.prefix, mask: maskOf(cidr.version, cidr.prefix), networks: new Set() };
      list.push(level);
      list.sort((a, b) => a.prefix - b.prefix);
    }
    if (!level.networks.has(cidr.network)) {
      level.networks.add(cidr.network);
      this.count++;
      if (cidr.version === 4) this.#addV4(cidr);
    }
  }

  #addV4(cidr: Cidr): void {
    let level = this.v4Levels.find((entry) => entry.prefix === cidr.prefix);
    if (level === undefined) {
      level = { prefix: cidr.prefix, mask: Number(maskOf(4, cidr.prefix)), networks: new Set() };
      this.v4Levels.push(level);
      this.v4Levels.sort((a, b) => a.prefix - b.prefix);
    }
    level.networks.add(Number(cidr.network));
  }

  get size(): number {
    return this.count;
  }

  /** The matching range of the address, `undefined` when none (or when it is not an address). */
  match(address: string | ParsedIp): Cidr | undefined {
    if (typeof address === 'string' && !address.includes(':')) {
      const value = parseIPv4Number(address.trim());
      if (value !== undefined) return this.#matchV4(value);
    }
    const ip = typeof address === 'string' ? parseIp(address) : address;
    if (ip === undefined) return undefined;
    for (const { prefix, mask, networks } of this.byPrefix[ip.version]) {
      const network = ip.value & mask;
      if (networks.has(network)) return { version: ip.version, network, prefix };
    }
    return undefined;
  }

  #matchV4(value: number): Cidr | undefined {
    for (const { prefix, mask, networks } of this.v4Levels) {
      // `>>> 0` keeps the masked value unsigned, as the networks were stored.
      const network = (value & mask) >>> 0;
      if (networks.has(network)) return { version: 4, network: BigInt(network), prefix };
    }
    return undefined;
  }

  has(address: string | ParsedIp): boolean {
    return this.match(address) !== undefined;
  }
}

/** Writes a range back as text, e.g. for a verdict's reason. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ version: cidr.version, value: cidr.network })}/${cidr.prefix}`;
}
