/**
 * The DNS name a blocklist is asked about an address: the address reversed, then the zone
 * (RFC 5782). IPv4: the four octets in reverse order. IPv6: the 32 nibbles of the full
 * address in reverse order, as in ip6.arpa.
 */
import { ipBytes, parseIp } from '@formsecurity/core';

/**
 * The reversed labels of an address, or `undefined` when it is not an IP address.
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is reversed as the IPv4 address it stands for.
 *
 * @example
 * reversedIpLabels('203.0.113.79'); // '79.113.0.203'
 * reversedIpLabels('2001:db8::1');  // '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2'
 */
export function reversedIpLabels(ip: string): { version: 4 | 6; labels: string } | undefined {
  const parsed = parseIp(ip);
  if (parsed === undefined) return undefined;
  const bytes = [...ipBytes(parsed)].reverse();
  if (parsed.version === 4) return { version: 4, labels: bytes.join('.') };
  const nibbles = bytes.flatMap((byte) => [(byte & 0x0f).toString(16), (byte >> 4).toString(16)]);
  return { version: 6, labels: nibbles.join('.') };
}

/**
 * The query name for an address in a zone; with a Spamhaus DQS key, `<reversed>.<key>.<zone>`.
 * `undefined` when `ip` is not an IP address.
 *
 * @example
 * dnsblQueryName('203.0.113.79', 'zen.spamhaus.org'); // '79.113.0.203.zen.spamhaus.org'
 * dnsblQueryName('203.0.113.79', 'zen.dq.spamhaus.net', 'mykey'); // '79.113.0.203.mykey.zen.dq.spamhaus.net'
 */
export function dnsblQueryName(ip: string, zone: string, key?: string): string | undefined {
  const reversed = reversedIpLabels(ip);
  if (reversed === undefined) return undefined;
  return key === undefined ? `${reversed.labels}.${zone}` : `${reversed.labels}.${key}.${zone}`;
}
