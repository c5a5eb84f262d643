/**
 * Spoofed client IPs: for every trusted-proxy setting, crafted X-Forwarded-For and
 * Forwarded chains give the client IP that docs/security.md's rule names, first through
 * the subject extractor every adapter uses, then end to end over real HTTP.
 *
 * The rule: trust nobody by default (the socket peer is the client). With trusted
 * proxies, walk the configured header from the right, starting at the socket peer, and
 * stop at the first address that is not trusted (a hop count trusts that many hops); if
 * every address is trusted, the leftmost one is the client. A trusted hop that hands over
 * something that is not an address leaves the IP out, with an issue, rather than guessing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFormSecurity, createSubjectExtractor } from '@formsecurity/core';
import type { FormSecurity, ForwardedHeader, TrustProxy } from '@formsecurity/core';
import { FRAMEWORKS, startSite } from './support/apps.js';
import type { Site } from './support/apps.js';
import { rawRequest, requestBytes } from './support/raw-http.js';

interface Row {
  readonly case: string;
  readonly trustProxy: TrustProxy;
  readonly header?: ForwardedHeader;
  readonly peer: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The client IP, or `null` when the rule leaves it out (with an issue). */
  readonly client: string | null;
}

const XFF = (value: string | readonly string[]) => ({ 'x-forwarded-for': value });
const FWD = (value: string) => ({ forwarded: value });
const hops = (count: number, base: string) => Array.from({ length: count }, (_, i) => `${base}${i % 250}`).join(', ');

const ROWS: readonly Row[] = [
  // trustProxy false (the default): headers never count.
  { case: 'nobody trusted: a spoofed XFF is ignored', trustProxy: false, peer: '203.0.113.9', headers: XFF('1.1.1.1'), client: '203.0.113.9' },
  { case: 'nobody trusted, even a loopback peer', trustProxy: false, peer: '127.0.0.1', headers: XFF('1.1.1.1'), client: '127.0.0.1' },
  { case: 'nobody trusted: Forwarded is ignored too', trustProxy: false, header: 'forwarded', peer: '203.0.113.9', headers: FWD('for=1.1.1.1'), client: '203.0.113.9' },
  { case: 'zero hops is the same as nobody', trustProxy: 0, peer: '203.0.113.9', headers: XFF('1.1.1.1'), client: '203.0.113.9' },
  // A hop count: the address that many hops back.
  { case: 'one hop: the rightmost entry, spoofed entries to its left ignored', trustProxy: 1, peer: '10.0.0.1', headers: XFF('6.6.6.6, 203.0.113.5'), client: '203.0.113.5' },
  { case: 'one hop, no header: the peer', trustProxy: 1, peer: '10.0.0.1', headers: {}, client: '10.0.0.1' },
  { case: 'two hops', trustProxy: 2, peer: '10.0.0.1', headers: XFF('spoof, 203.0.113.5, 10.0.0.2'), client: '203.0.113.5' },
  { case: 'two hops but a shorter chain: its leftmost entry', trustProxy: 2, peer: '10.0.0.1', headers: XFF('203.0.113.5'), client: '203.0.113.5' },
  { case: 'garbage beyond the trusted hops is never read', trustProxy: 1, peer: '10.0.0.1', headers: XFF('not-an-ip, <script>, 203.0.113.5'), client: '203.0.113.5' },
  { case: 'garbage from a trusted hop: left out, not guessed', trustProxy: 1, peer: '10.0.0.1', headers: XFF('203.0.113.5, not-an-ip'), client: null },
  { case: 'an empty entry from a trusted hop: left out', trustProxy: 2, peer: '10.0.0.1', headers: XFF('203.0.113.5, , 10.0.0.2'), client: null },
  { case: 'ports and brackets are stripped', trustProxy: 1, peer: '::ffff:127.0.0.1', headers: XFF('203.0.113.9:51234'), client: '203.0.113.9' },
  { case: 'bracketed IPv6 with a port', trustProxy: 1, peer: '127.0.0.1', headers: XFF('[2001:db8::5]:443'), client: '2001:db8::5' },
  { case: 'an IPv4-mapped entry becomes IPv4', trustProxy: 1, peer: '127.0.0.1', headers: XFF('::ffff:203.0.113.5'), client: '203.0.113.5' },
  { case: 'whitespace around entries', trustProxy: 2, peer: '10.0.0.1', headers: XFF('  203.0.113.5 ,10.0.0.2 '), client: '203.0.113.5' },
  { case: 'several header lines read as one chain, in order', trustProxy: 1, peer: '10.0.0.1', headers: XFF(['6.6.6.6', '203.0.113.5']), client: '203.0.113.5' },
  // A list of trusted ranges: walk left while trusted.
  { case: 'CIDR: stops at the first untrusted address from the right', trustProxy: ['10.0.0.0/8'], peer: '10.0.0.1', headers: XFF('1.1.1.1, 10.9.9.9, 203.0.113.5'), client: '203.0.113.5' },
  { case: 'CIDR: a client claiming a trusted address left of its own is still itself', trustProxy: ['10.0.0.0/8'], peer: '10.0.0.1', headers: XFF('10.0.0.99, 203.0.113.5, 10.0.0.7'), client: '203.0.113.5' },
  { case: 'CIDR: an untrusted peer cannot send a chain', trustProxy: ['10.0.0.0/8'], peer: '198.51.100.1', headers: XFF('203.0.113.5'), client: '198.51.100.1' },
  { case: 'CIDR: a public client pretending to be a proxy', trustProxy: ['private'], peer: '203.0.113.66', headers: XFF('10.0.0.5'), client: '203.0.113.66' },
  { case: 'CIDR: every hop trusted, the leftmost one', trustProxy: ['10.0.0.0/8'], peer: '10.0.0.1', headers: XFF('10.1.1.1, 10.2.2.2'), client: '10.1.1.1' },
  { case: 'preset loopback with an IPv6 peer', trustProxy: ['loopback'], peer: '::1', headers: XFF('203.0.113.5'), client: '203.0.113.5' },
  { case: 'preset loopback with an IPv4-mapped peer', trustProxy: ['loopback'], peer: '::ffff:127.0.0.1', headers: XFF('203.0.113.5'), client: '203.0.113.5' },
  { case: 'preset private through two private proxies', trustProxy: ['private'], peer: '192.168.1.1', headers: XFF('203.0.113.5, 172.16.0.9'), client: '203.0.113.5' },
  { case: 'single trusted host', trustProxy: ['198.51.100.2'], peer: '198.51.100.2', headers: XFF('2001:db8::77'), client: '2001:db8::77' },
  { case: 'IPv6 range', trustProxy: ['2001:db8:ffff::/48'], peer: '2001:db8:ffff::1', headers: XFF('203.0.113.5, 2001:db8:ffff::2'), client: '203.0.113.5' },
  // Only the configured header counts.
  { case: 'XFF configured: a Forwarded header is ignored', trustProxy: ['loopback'], peer: '127.0.0.1', headers: { ...FWD('for=6.6.6.6'), ...XFF('203.0.113.5') }, client: '203.0.113.5' },
  { case: 'Forwarded configured: an XFF header is ignored', trustProxy: ['loopback'], header: 'forwarded', peer: '127.0.0.1', headers: XFF('6.6.6.6'), client: '127.0.0.1' },
  { case: 'Forwarded: for= among other parameters', trustProxy: ['loopback'], header: 'forwarded', peer: '127.0.0.1', headers: FWD('for=192.0.2.60;proto=http;by=203.0.113.43'), client: '192.0.2.60' },
  { case: 'Forwarded: quoted IPv6 with a port, then a trusted hop', trustProxy: ['loopback'], header: 'forwarded', peer: '::1', headers: FWD('for="[2001:db8:cafe::17]:4711", for=127.0.0.5'), client: '2001:db8:cafe::17' },
  { case: 'Forwarded: parameter names in any case', trustProxy: 1, header: 'forwarded', peer: '127.0.0.1', headers: FWD('FOR=203.0.113.5;Proto=https'), client: '203.0.113.5' },
  { case: 'Forwarded: a spoofed element left of the trusted ones', trustProxy: ['loopback'], header: 'forwarded', peer: '127.0.0.1', headers: FWD('for=6.6.6.6, for=203.0.113.5, for=127.0.0.2'), client: '203.0.113.5' },
  { case: 'Forwarded: "unknown" from a trusted hop is left out', trustProxy: 1, header: 'forwarded', peer: '127.0.0.1', headers: FWD('for=unknown'), client: null },
  { case: 'Forwarded: an obfuscated identifier is left out', trustProxy: 1, header: 'forwarded', peer: '127.0.0.1', headers: FWD('for=_hidden'), client: null },
  // Bounds: a hostile header cannot make the walk long.
  { case: 'a 20 kB header: only its tail is read', trustProxy: 1, peer: '10.0.0.1', headers: XFF(`${'x'.repeat(20_000)}, 203.0.113.5`), client: '203.0.113.5' },
  { case: 'more than 64 trusted hops: the walk ends at the 64th', trustProxy: ['10.0.0.0/8'], peer: '10.0.0.1', headers: XFF(`203.0.113.5, ${hops(100, '10.0.0.')}`), client: '10.0.0.36' },
  // No usable peer at all.
  { case: 'no peer address', trustProxy: 1, peer: undefined, headers: XFF('203.0.113.5'), client: null },
  { case: 'a peer that is not an address', trustProxy: 1, peer: 'garbage', headers: XFF('203.0.113.5'), client: null },
];

describe('client IP under spoofing: the documented rule, setting by setting', () => {
  it.each(ROWS)('$case', (row) => {
    const extract = createSubjectExtractor({ trustProxy: row.trustProxy, ...(row.header === undefined ? {} : { forwardedHeader: row.header }) });
    const subject = extract({ remoteAddress: row.peer, headers: row.headers, body: undefined });
    if (row.client === null) {
      expect(subject.ip).toBeUndefined();
      expect(subject.issues?.join(' ')).toMatch(/client IP/);
    } else {
      expect(subject.ip).toBe(row.client);
      expect(subject.issues).toBeUndefined();
    }
  });
});

describe('client IP end to end: the adapters pass the real socket peer', () => {
  let engine: FormSecurity;
  const sites = new Map<string, Site>();

  /** The client IP of each evaluated submission, as the engine was given it. */
  const seen: (string | null)[] = [];

  beforeAll(async () => {
    engine = createFormSecurity({
      providers: [
        {
          name: 'witness',
          local: true,
          async check(subject) {
            seen.push(subject.ip ?? null);
            return { score: 0 };
          },
        },
      ],
      cache: false,
    });
    for (const framework of FRAMEWORKS) {
      for (const [name, trustProxy] of [['nobody', false], ['loopback', ['loopback']], ['one-hop', 1]] as const) {
        sites.set(`${framework}:${name}`, await startSite[framework]({ engine, subject: { trustProxy } }));
      }
    }
  });

  afterAll(async () => {
    await Promise.all([...sites.values()].map((site) => site.close()));
    await engine.close();
  });

  async function clientIp(site: Site, headers: readonly (readonly [string, string])[]): Promise<string | null | undefined> {
    const before = seen.length;
    const answer = await rawRequest(site.port, requestBytes('/submit', headers, '{"message":"hi"}', 'application/json'));
    expect(answer.status).toBe(200);
    expect(seen).toHaveLength(before + 1);
    return seen[before];
  }

  it.each(FRAMEWORKS)('%s: trusting nobody, a spoofed header changes nothing', async (framework) => {
    const site = sites.get(`${framework}:nobody`) as Site;
    expect(await clientIp(site, [['X-Forwarded-For', '6.6.6.6'], ['Forwarded', 'for=6.6.6.6']])).toBe('127.0.0.1');
  });

  it.each(FRAMEWORKS)('%s: behind a loopback proxy, the first untrusted hop from the right', async (framework) => {
    const site = sites.get(`${framework}:loopback`) as Site;
    expect(await clientIp(site, [['X-Forwarded-For', '6.6.6.6, 203.0.113.5, 127.0.0.9']])).toBe('203.0.113.5');
    expect(await clientIp(site, [['X-Forwarded-For', '6.6.6.6'], ['X-Forwarded-For', '203.0.113.5']])).toBe('203.0.113.5');
    expect(await clientIp(site, [])).toBe('127.0.0.1');
  });

  it.each(FRAMEWORKS)('%s: one hop, and garbage from that hop leaves the IP out', async (framework) => {
    const site = sites.get(`${framework}:one-hop`) as Site;
    expect(await clientIp(site, [['X-Forwarded-For', '6.6.6.6, 2001:db8::9']])).toBe('2001:db8::9');
    expect(await clientIp(site, [['X-Forwarded-For', '203.0.113.5, nonsense']])).toBeNull();
  });
});
