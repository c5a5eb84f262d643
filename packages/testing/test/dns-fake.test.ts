import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDns } from '../src/dns-fake.js';
import type { DnsFake } from '../src/dns-fake.js';
import { DnsRcode, DnsType, decodeDnsAnswer, encodeDnsQuery, parseDnsQuery } from '../src/dns-message.js';

let dns: DnsFake;

function resolverFor(server: string, timeoutMs = 2000): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  return resolver;
}

function resolve4(name: string, resolver = resolverFor(dns.server)): Promise<string[]> {
  return new Promise((resolve, reject) => resolver.resolve4(name, (error, addresses) => (error ? reject(error) : resolve(addresses))));
}

async function failureCode(name: string, resolver?: Resolver): Promise<string | undefined> {
  try {
    await resolve4(name, resolver);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected the lookup to fail');
}

/** Sends raw bytes to the fake and returns the first datagram back. */
function exchange(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no answer'));
    }, 3000);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    socket.send(bytes, dns.port, '127.0.0.1');
  });
}

beforeAll(async () => {
  dns = await startFakeDns({ keys: ['sekr1tdqskey'] });
});
afterAll(async () => {
  await dns.close();
});
beforeEach(() => dns.reset());

describe('startFakeDns over a real resolver', () => {
  it('answers a listed IPv4 address with its codes and NXDOMAIN for anything else', async () => {
    dns.list('zen.spamhaus.org', '203.0.113.7', ['127.0.0.2', '127.0.0.4']);
    expect((await resolve4('7.113.0.203.zen.spamhaus.org')).sort()).toEqual(['127.0.0.2', '127.0.0.4']);
    expect(await failureCode('8.113.0.203.zen.spamhaus.org')).toBe('ENOTFOUND');
    expect(await failureCode('7.113.0.203.other.example')).toBe('ENOTFOUND');
    expect(dns.queries.queries.map((query) => query.outcome)).toEqual(['NOERROR', 'NXDOMAIN', 'NXDOMAIN']);
  });

  it('answers IPv6 nibble names, whatever spelling the address was listed in', async () => {
    dns.list('zen.spamhaus.org', '2001:DB8:0:0::1');
    const name = `${'1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0'}.8.b.d.0.1.0.0.2.zen.spamhaus.org`;
    expect(await resolve4(name)).toEqual(['127.0.0.2']);
  });

  it('matches DQS names with a known key and never logs the key', async () => {
    dns.list('zen.dq.spamhaus.net', '198.51.100.9', '127.0.0.3');
    expect(await resolve4('9.100.51.198.sekr1tdqskey.zen.dq.spamhaus.net')).toEqual(['127.0.0.3']);
    expect(await failureCode('9.100.51.198.wrongkey.zen.dq.spamhaus.net')).toBe('ENOTFOUND');
    expect(dns.queries.queries[0]?.name).toBe('9.100.51.198.[redacted].zen.dq.spamhaus.net');
    expect(JSON.stringify(dns.queries.queries)).not.toContain('sekr1tdqskey');
  });

  it('unlists, and answers explicit records for any name', async () => {
    dns.list('bl.example', '192.0.2.1');
    dns.unlist('bl.example', '192.0.2.1');
    expect(await failureCode('1.2.0.192.bl.example')).toBe('ENOTFOUND');
    dns.setRecord('2.0.0.127.bl.example', ['127.0.0.2']);
    expect(await resolve4('2.0.0.127.bl.example')).toEqual(['127.0.0.2']);
  });

  it('refuses impossible listings', () => {
    expect(() => dns.list('bl.example', 'not-an-ip')).toThrow(RangeError);
    expect(() => dns.list('bl.example', '192.0.2.1', ['::1'])).toThrow(RangeError);
  });
});

describe('startFakeDns faults', () => {
  it('answers SERVFAIL and REFUSED', async () => {
    dns.faults.inject({ kind: 'servfail' }, { times: 1 });
    expect(await failureCode('1.2.0.192.zen.spamhaus.org')).toBe('ESERVFAIL');
    dns.faults.inject({ kind: 'refused' }, { times: 1 });
    expect(await failureCode('1.2.0.192.zen.spamhaus.org')).toBe('EREFUSED');
    expect(await failureCode('1.2.0.192.zen.spamhaus.org')).toBe('ENOTFOUND');
  });

  it('answers Spamhaus error codes to every A query', async () => {
    dns.faults.inject({ kind: 'lookup-error', code: '127.255.255.255' });
    expect(await resolve4('1.2.0.192.zen.spamhaus.org')).toEqual(['127.255.255.255']);
    dns.faults.inject({ kind: 'lookup-error' });
    expect(await resolve4('5.2.0.192.zen.spamhaus.org')).toEqual(['127.255.255.254']);
    dns.faults.inject({ kind: 'answer', addresses: ['198.51.100.80'] });
    expect(await resolve4('6.2.0.192.zen.spamhaus.org')).toEqual(['198.51.100.80']);
  });

  it('drops queries so the client times out, and logs them as dropped', async () => {
    dns.faults.inject({ kind: 'drop' });
    expect(await failureCode('1.2.0.192.zen.spamhaus.org', resolverFor(dns.server, 100))).toBe('ETIMEOUT');
    expect((await dns.queries.waitFor(1)).outcome).toBe('dropped');
  });

  it('delays answers past a client timeout, and answers on time again once cleared', async () => {
    dns.list('zen.spamhaus.org', '192.0.2.1');
    dns.faults.latency(1500);
    expect(await failureCode('1.2.0.192.zen.spamhaus.org', resolverFor(dns.server, 100))).toBe('ETIMEOUT');
    dns.faults.clear();
    expect(await resolve4('1.2.0.192.zen.spamhaus.org')).toEqual(['127.0.0.2']);
  });
});

describe('startFakeDns query log', () => {
  it('logs a delayed query on arrival, and reset drops its answer', async () => {
    dns.faults.latency(10_000);
    const lookup = failureCode('1.2.0.192.zen.spamhaus.org', resolverFor(dns.server, 300));
    const query = await dns.queries.waitFor(1);
    expect(query.outcome).toBe('pending');
    dns.reset();
    await expect(query.finished).resolves.toBe('dropped');
    expect(await lookup).toBe('ETIMEOUT');
  });

  it('drops a datagram too short to answer, and logs it', async () => {
    const socket = createSocket('udp4');
    socket.send(Buffer.from([1, 2, 3]), dns.port, '127.0.0.1', () => socket.close());
    expect(await (await dns.queries.waitFor(1)).finished).toBe('dropped');
  });
});

describe('startFakeDns wire format', () => {
  it('echoes the id and question, and answers an EDNS query with an OPT record', async () => {
    dns.list('zen.spamhaus.org', '192.0.2.1');
    const answer = decodeDnsAnswer(await exchange(encodeDnsQuery(0x1234, '1.2.0.192.ZEN.spamhaus.org', DnsType.a, { edns: true })));
    expect(answer).toEqual({ id: 0x1234, rcode: DnsRcode.noError, addresses: ['127.0.0.2'], edns: true });
    const plain = decodeDnsAnswer(await exchange(encodeDnsQuery(7, '2.2.0.192.zen.spamhaus.org', DnsType.a)));
    expect(plain).toEqual({ id: 7, rcode: DnsRcode.nxDomain, addresses: [], edns: false });
  });

  it('answers AAAA for a listed name with an empty NOERROR', async () => {
    dns.list('zen.spamhaus.org', '192.0.2.1');
    const answer = decodeDnsAnswer(await exchange(encodeDnsQuery(9, '1.2.0.192.zen.spamhaus.org', DnsType.aaaa)));
    expect(answer).toMatchObject({ rcode: DnsRcode.noError, addresses: [] });
    expect(dns.queries.queries[0]?.type).toBe('AAAA');
  });

  it('answers FORMERR to a message it cannot read, and keeps serving', async () => {
    const garbage = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
    expect(decodeDnsAnswer(await exchange(garbage))).toMatchObject({ id: 0xabcd, rcode: DnsRcode.formErr });
    dns.list('zen.spamhaus.org', '192.0.2.1');
    expect(await resolve4('1.2.0.192.zen.spamhaus.org')).toEqual(['127.0.0.2']);
  });

  it('parses compressed names and refuses pointer loops', () => {
    const query = encodeDnsQuery(1, 'a.example', DnsType.a);
    const parsed = parseDnsQuery(query);
    expect(parsed).toMatchObject({ id: 1, name: 'a.example', type: DnsType.a, edns: false });
    const looping = Buffer.concat([query.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    expect(parseDnsQuery(looping)).toMatchObject({ id: 1, error: expect.stringContaining('loop') });
    expect(parseDnsQuery(Buffer.from([1, 2, 3]))).toEqual({ error: 'shorter than a DNS header' });
  });
});

describe('startFakeDns options', () => {
  it('listens on ::1 and answers other types with NOTIMP when asked to', async () => {
    const v6 = await startFakeDns({ host: '::1', otherTypes: 'notimp' });
    try {
      v6.list('bl.example', '192.0.2.44');
      expect(v6.server).toBe(`[::1]:${v6.port}`);
      expect(await resolve4('44.2.0.192.bl.example', resolverFor(v6.server))).toEqual(['127.0.0.2']);
      const resolver = resolverFor(v6.server);
      const code = await new Promise<string | undefined>((resolve) =>
        resolver.resolve6('44.2.0.192.bl.example', (error) => resolve(error?.code)),
      );
      expect(code).toBe('ENOTIMP');
    } finally {
      await v6.close();
    }
  });
});
