/**
 * Which addresses a geolocation or reputation service refuses to locate: private networks
 * and reserved (documentation, loopback, link-local, multicast …) ranges. The fakes answer
 * for these the way the real services do, unless a test gives an address an answer of its own.
 */
import { CidrSet, parseIp } from '@formsecurity/core';

/** How a fake classifies an address it has no configured answer for. */
export type AddressClass = 'private' | 'reserved' | 'public';

const PRIVATE = CidrSet.from(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', 'fc00::/7', '::1/128']);

const RESERVED = CidrSet.from([
  '0.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  'fe80::/10',
  'ff00::/8',
  '2001:db8::/32',
]);

/**
 * Classifies an address; `undefined` for text that is not an address.
 *
 * @example
 * addressClass('192.168.1.1'); // 'private'
 * addressClass('203.0.113.7'); // 'reserved' (TEST-NET-3)
 * addressClass('8.8.8.8');     // 'public'
 */
export function addressClass(ip: string): AddressClass | undefined {
  const parsed = parseIp(ip);
  if (parsed === undefined) return undefined;
  if (PRIVATE.has(parsed)) return 'private';
  if (RESERVED.has(parsed)) return 'reserved';
  return 'public';
}
