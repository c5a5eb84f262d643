import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDns } from '../../testing/src/dns-fake.js';
import type { DnsFake } from '../../testing/src/dns-fake.js';
import { DNSBL_DEFAULTS, dnsbl } from '../src/dnsbl/provider.js';
import type { DnsblOptions } from '../src/dnsbl/provider.js';
import { createResolverPool } from '../src/dnsbl/lookup.js';
import { dnsblQueryName, reversedIpLabels } from '../src/dnsbl/query-name.js';
import { spamhausZen } from '../src/dnsbl/zones.js';

const ZEN = 'zen.spamhaus.org';
const IP = '203.0.113.7';
const DQS_KEY = 'k3ysecretdqs0123456789abcd';
const never = (): AbortSignal => new AbortController().signal;

let dns: DnsFake;
const provider = (options: DnsblOptions = {}): ReturnType<typeof dnsbl> => dnsbl({ servers: [dns.server], ...options });

async function failure(check: Promise<unknown>): Promise<ProviderResponseError> {
  try {
    await check;
  } catch (error) {
    if (isProviderResponseError(error)) return error;
    throw error;
  }
  throw new Error('expected the check to fail');
}

beforeAll(async () => {
  dns = await startFakeDns({ keys: [DQS_KEY] });
});
afterAll(async () => {
  await dns.close();
});
beforeEach(() => dns.reset());

describe('dnsbl query names', () => {
  it('reverses IPv4 octets and IPv6 nibbles, and maps IPv4-mapped IPv6 to IPv4', () => {
    expect(dnsblQueryName('203.0.113.79', ZEN)).toBe('79.113.0.203.zen.spamhaus.org');
    expect(reversedIpLabels('2001:db8::1')?.labels).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2',
    );
    expect(dnsblQueryName('::ffff:192.0.2.1', ZEN)).toBe('1.2.0.192.zen.spamhaus.org');
    expect(dnsblQueryName('203.0.113.79', 'zen.dq.spamhaus.net', 'abc')).toBe('79.113.0.203.abc.zen.dq.spamhaus.net');
    expect(dnsblQueryName('not an ip', ZEN)).toBeUndefined();
  });
});

describe('dnsbl answers', () => {
  it('scores an SBL listing 1 and names the list', async () => {
    dns.list(ZEN, IP, '127.0.0.2');
    const result = await provider().check({ ip: IP }, { signal: never() });
    expect(result).toEqual({
      score: 1,
      reasons: ['IP listed in Spamhaus ZEN: SBL (spam source)'],
      data: { zones: { [ZEN]: { listed: true, codes: ['127.0.0.2'], lists: ['SBL'] } } },
    });
    expect(dns.queries.queries[0]).toMatchObject({ name: '7.113.0.203.zen.spamhaus.org', type: 'A' });
  });

  it('scores NXDOMAIN 0 as not listed', async () => {
    const result = await provider().check({ ip: '198.51.100.20' }, { signal: never() });
    expect(result).toEqual({ score: 0, reasons: [], data: { zones: { [ZEN]: { listed: false, codes: [], lists: [] } } } });
  });

  it('keeps PBL as data only by default, and scores it when asked', async () => {
    dns.list(ZEN, IP, ['127.0.0.10', '127.0.0.11']);
    const plain = await provider().check({ ip: IP }, { signal: never() });
    expect(plain.score).toBe(0);
    expect(plain.reasons).toEqual([]);
    expect(plain.data).toEqual({ zones: { [ZEN]: { listed: true, codes: ['127.0.0.10', '127.0.0.11'], lists: ['PBL'] } } });
    const strict = await provider({ zones: [spamhausZen({ pblScore: 0.3 })] }).check({ ip: IP }, { signal: never() });
    expect(strict.score).toBe(0.3);
    expect(strict.reasons).toEqual(['IP listed in Spamhaus ZEN: PBL (end-user range (ISP maintained))']);
  });

  it('reports every list of a multi-code answer, with the highest score', async () => {
    dns.list(ZEN, IP, ['127.0.0.4', '127.0.0.9', '127.0.0.10']);
    const result = await provider({ zones: [spamhausZen({ xblScore: 0.5 })] }).check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(1);
    expect(result.reasons).toEqual([
      'IP listed in Spamhaus ZEN: XBL (exploited or infected host)',
      'IP listed in Spamhaus ZEN: DROP (hijacked or criminal network)',
    ]);
  });

  it('asks IPv6 subjects by nibbles, and skips zones that do not answer IPv6', async () => {
    dns.list(ZEN, '2001:db8::bad', '127.0.0.3');
    dns.list('v4only.example', '2001:db8::bad');
    const zones = [spamhausZen(), { zone: 'v4only.example', ipv6: false }];
    const result = await provider({ zones }).check({ ip: '2001:db8::bad' }, { signal: never() });
    expect(result.score).toBe(1);
    expect(result.reasons).toEqual(['IP listed in Spamhaus ZEN: CSS (snowshoe spam source)']);
    expect(dns.queries.count).toBe(1);
    expect(dns.queries.queries[0]?.name).toBe(`${reversedIpLabels('2001:db8::bad')?.labels}.${ZEN}`);
  });

  it('scores codes a custom zone does not map with unknownCodeScore', async () => {
    dns.list('bl.example', IP, '127.0.0.42');
    const zones = [{ zone: 'bl.example', label: 'Example BL', unknownCodeScore: 0.6 }];
    const result = await provider({ zones }).check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(0.6);
    expect(result.reasons).toEqual(['IP listed in Example BL: 127.0.0.42']);
  });

  it('makes no query for a subject without an IP', async () => {
    expect(await provider().check({ email: 'a@example.org' }, { signal: never() })).toEqual({ score: 0, reasons: [] });
    expect(dns.queries.count).toBe(0);
  });

  it('puts the DQS key in the query name and nowhere else', async () => {
    dns.list('zen.dq.spamhaus.net', IP, '127.0.0.2');
    const result = await provider({ zones: [spamhausZen({ dqsKey: DQS_KEY })] }).check({ ip: IP }, { signal: never() });
    expect(result.score).toBe(1);
    expect(JSON.stringify(result)).not.toContain(DQS_KEY);
    expect(dns.queries.queries[0]?.name).toBe('7.113.0.203.[redacted].zen.dq.spamhaus.net');
  });
});

describe('dnsbl failures', () => {
  it.each([
    ['127.255.255.252', 'the zone name is wrong'],
    ['127.255.255.254', 'public or open resolver'],
    ['127.255.255.255', 'too many queries'],
    ['127.255.255.250', 'reported an error'],
  ])('treats %s as a lookup error, never a listing', async (code, meaning) => {
    dns.faults.inject({ kind: 'lookup-error', code });
    const error = await failure(provider().check({ ip: IP }, { signal: never() }));
    expect(error.kind).toBe('http');
    expect(error.message).toContain(meaning);
    expect(error.message).not.toMatch(/listed/i);
  });

  it('turns SERVFAIL and REFUSED into http errors, silence into a network error', async () => {
    dns.faults.inject({ kind: 'servfail' }, { times: 1 });
    expect((await failure(provider().check({ ip: IP }, { signal: never() }))).message).toBe(
      'dnsbl: the resolver answered SERVFAIL (ESERVFAIL)',
    );
    dns.faults.inject({ kind: 'refused' }, { times: 1 });
    expect((await failure(provider().check({ ip: IP }, { signal: never() }))).kind).toBe('http');
    dns.faults.inject({ kind: 'drop' });
    const silent = await failure(provider({ timeoutMs: 100 }).check({ ip: IP }, { signal: never() }));
    expect(silent.kind).toBe('network');
    expect(silent.message).toContain('ETIMEOUT');
  });

  it('refuses an answer outside 127.0.0.0/8 as malformed', async () => {
    dns.faults.inject({ kind: 'answer', addresses: ['198.51.100.80'] });
    expect((await failure(provider().check({ ip: IP }, { signal: never() }))).kind).toBe('malformed');
  });

  it('lets a listing stand when another zone fails, and fails when nothing is listed', async () => {
    const zones = [spamhausZen(), { zone: 'broken.example' }];
    const other = '198.51.100.5';
    dns.list(ZEN, IP, '127.0.0.2');
    dns.setRecord('7.113.0.203.broken.example', ['127.255.255.252']);
    dns.setRecord('5.100.51.198.broken.example', ['127.255.255.252']);
    const listed = await provider({ zones }).check({ ip: IP }, { signal: never() });
    expect(listed.score).toBe(1);
    expect(listed.data).toMatchObject({ unanswered: ['broken.example'] });
    const nothing = await failure(provider({ zones }).check({ ip: other }, { signal: never() }));
    expect(nothing.kind).toBe('http');
    expect(nothing.message).toContain('zone name is wrong');
  });

  it('never names the address, the query or the DQS key in an error', async () => {
    const zones = [spamhausZen({ dqsKey: DQS_KEY })];
    const faults = [
      { kind: 'servfail' },
      { kind: 'refused' },
      { kind: 'lookup-error', code: '127.255.255.254' },
      { kind: 'answer', addresses: ['198.51.100.80'] },
      { kind: 'drop' },
    ] as const;
    for (const fault of faults) {
      dns.faults.inject(fault);
      const error = await failure(provider({ zones, timeoutMs: 100 }).check({ ip: IP }, { signal: never() }));
      const exposed = `${error.message} ${JSON.stringify(error)} ${String(error.cause)} ${error.stack ?? ''}`;
      for (const secret of [DQS_KEY, IP, '7.113.0.203', 'dq.spamhaus.net']) {
        expect(exposed, `${fault.kind} exposes ${secret}`).not.toContain(secret);
      }
    }
  });
});

describe('dnsbl aborts', () => {
  it('rejects with the signal reason as soon as it aborts', async () => {
    dns.faults.latency(10_000);
    const controller = new AbortController();
    const reason = new Error('deadline passed');
    const pending = provider().check({ ip: IP }, { signal: controller.signal });
    const query = await dns.queries.waitFor(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(query.outcome).toBe('pending');
  });

  it('does not cancel another request’s lookup (one resolver per check)', async () => {
    dns.list(ZEN, IP, '127.0.0.2');
    dns.faults.latency(300);
    const shared = provider();
    const aborted = new AbortController();
    const first = shared.check({ ip: IP }, { signal: aborted.signal });
    const second = shared.check({ ip: IP }, { signal: never() });
    setTimeout(() => aborted.abort(), 20);
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect(second).resolves.toMatchObject({ score: 1 });
  });

  it('answers again after an abort, through the resolver the aborted check gave back', async () => {
    dns.list(ZEN, IP, '127.0.0.2');
    const shared = provider();
    dns.faults.latency(10_000);
    const controller = new AbortController();
    const aborted = shared.check({ ip: IP }, { signal: controller.signal });
    await dns.queries.waitFor(1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    dns.faults.clear();
    await expect(shared.check({ ip: IP }, { signal: never() })).resolves.toMatchObject({ score: 1 });
  });

  it('lends each resolver to one check at a time and keeps a bounded number idle', () => {
    const pool = createResolverPool({ timeoutMs: 100 }, 2);
    const a = pool.acquire();
    const b = pool.acquire();
    const c = pool.acquire();
    expect(new Set([a, b, c]).size).toBe(3);
    for (const resolver of [a, b, c]) pool.release(resolver);
    expect(pool.idle).toBe(2);
    expect([pool.acquire(), pool.acquire()]).toEqual(expect.arrayContaining([a, b]));
  });

  it('rejects at once for an already aborted signal, without a query', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(provider().check({ ip: IP }, { signal: controller.signal })).rejects.toThrow('too late');
    expect(dns.queries.count).toBe(0);
  });
});

describe('dnsbl configuration', () => {
  function issuesOf(options: DnsblOptions): string {
    try {
      dnsbl(options);
    } catch (error) {
      if (isConfigurationError(error)) return error.issues.join('\n');
      throw error;
    }
    throw new Error('expected a configuration error');
  }

  it('names every wrong option, without echoing a key', () => {
    const issues = issuesOf({
      name: ' ',
      zones: [
        { zone: 'not a zone!' },
        { zone: 'bl.example', key: 'has.dots.secretvalue', unknownCodeScore: 2, codes: { '10.0.0.1': { list: 'X', score: 5 } } },
      ],
      servers: ['resolver.example.org'],
      timeoutMs: 0,
      weight: 1.5,
      ttlMs: -1,
    });
    for (const key of [
      'dnsbl.name',
      'dnsbl.zones[0].zone',
      'dnsbl.zones[1].key',
      'dnsbl.zones[1].unknownCodeScore',
      'dnsbl.zones[1].codes: "10.0.0.1"',
      'dnsbl.zones[1].codes["10.0.0.1"].score',
      'dnsbl.servers[0]',
      'dnsbl.timeoutMs',
      'dnsbl.weight',
      'dnsbl.ttlMs',
    ]) {
      expect(issues).toContain(key);
    }
    expect(issues).not.toContain('secretvalue');
    expect(issuesOf({ zones: [] })).toContain('dnsbl.zones: expected at least one zone');
    expect(issuesOf({ zones: [{ zone: 'a.example' }, { zone: 'A.example' }] })).toContain('each zone may appear once');
  });

  it('describes itself with documented defaults', () => {
    const provider = dnsbl();
    expect(provider.name).toBe('dnsbl');
    expect(provider.facets).toEqual(['ip']);
    expect(provider.local).toBeUndefined();
    expect(provider.defaults).toEqual(DNSBL_DEFAULTS);
    expect(dnsbl({ name: 'spamcop', weight: 0.4, ttlMs: 1000 })).toMatchObject({ name: 'spamcop', defaults: { weight: 0.4, ttlMs: 1000 } });
    expect(spamhausZen({ dqsKey: 'abc' })).toMatchObject({ zone: 'zen.dq.spamhaus.net', key: 'abc' });
  });
});
