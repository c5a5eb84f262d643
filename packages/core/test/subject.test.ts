import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CidrSet,
  createClientIpResolver,
  createFormSecurity,
  createGate,
  createSubjectExtractor,
  isConfigurationError,
  normalizeEmail,
  normalizeIp,
  parseCidr,
  parseIp,
} from '../src/index.js';
import type { ParsedIp } from '../src/index.js';

describe('IP parsing', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8::192.0.2.1', '2001:db8::c000:201'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1:2:3:4:5:6:7:8:9', '1::2::3', 'gggg::1', 'example.com', '1.2.3.4/24', ':::'])(
    'rejects %j',
    (input) => {
      expect(normalizeIp(input)).toBeUndefined();
    },
  );

  it('round-trips every address it writes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
        const once = normalizeIp(address);
        expect(once).toBeDefined();
        expect(normalizeIp(once as string)).toBe(once);
      }),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (text) => {
      normalizeIp(text);
      parseCidr(text);
    }));
  });
});

describe('CidrSet', () => {
  const set = CidrSet.from(['10.0.0.0/8', '203.0.113.0/24', '2001:db8::/32', '198.51.100.7', '::ffff:192.0.2.0/120']);

  it.each([
    ['10.200.3.4', true],
    ['11.0.0.1', false],
    ['::ffff:10.1.1.1', true],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    ['198.51.100.7', true],
    ['198.51.100.8', false],
    ['192.0.2.200', true],
    ['not an ip', false],
  ])('%s inside: %s', (ip, inside) => {
    expect(set.has(ip)).toBe(inside);
  });

  it('names the entry that is not a range', () => {
    expect(() => CidrSet.from(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
  });

  it('matches a dotted quad given as text exactly as the same address parsed (the numeric path)', () => {
    const ranges = fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(ranges, fc.ipV4(), (entries, ip) => {
        const random = CidrSet.from(entries.map(([network, prefix]) => `${network}/${prefix}`));
        const inside = CidrSet.from(entries.map(([network, prefix]) => `${network}/${prefix}`).concat(`${ip}/32`));
        const parsed = parseIp(ip) as ParsedIp;
        expect(random.match(ip)).toEqual(random.match(parsed));
        expect(inside.match(ip)).toEqual(inside.match(parsed));
        expect(inside.has(ip)).toBe(true);
      }),
    );
  });
});

describe('client IP behind proxies', () => {
  it('trusts nobody by default: a spoofed X-Forwarded-For is ignored', () => {
    const resolve = createClientIpResolver();
    expect(resolve('198.51.100.20', '1.1.1.1').ip).toBe('198.51.100.20');
  });

  it('walks trusted CIDR hops right to left and stops at the first untrusted address', () => {
    const resolve = createClientIpResolver({ trustProxy: ['10.0.0.0/8'] });
    // The client claims 10.9.9.9 and 1.1.1.1; the proxy appended the real peer 203.0.113.5.
    expect(resolve('10.0.0.1', '1.1.1.1, 10.9.9.9, 203.0.113.5').ip).toBe('203.0.113.5');
    expect(resolve('10.0.0.1', '203.0.113.5, 10.0.0.2').ip).toBe('203.0.113.5');
    // A request that did not come through a trusted peer: its header is ignored.
    expect(resolve('198.51.100.1', '203.0.113.5').ip).toBe('198.51.100.1');
  });

  it('counts hops when given a number', () => {
    const resolve = createClientIpResolver({ trustProxy: 2 });
    expect(resolve('10.0.0.1', 'spoof, 203.0.113.5, 10.0.0.2').ip).toBe('203.0.113.5');
    expect(resolve('10.0.0.1', '203.0.113.5').ip).toBe('203.0.113.5');
    expect(resolve('10.0.0.1', undefined).ip).toBe('10.0.0.1');
  });

  it('reads only the configured header', () => {
    const xff = createClientIpResolver({ trustProxy: ['loopback'] });
    const forwarded = createClientIpResolver({ trustProxy: ['loopback'], header: 'forwarded' });
    expect(xff('127.0.0.1', undefined).ip).toBe('127.0.0.1');
    expect(forwarded('127.0.0.1', 'for=192.0.2.60;proto=http;by=203.0.113.43').ip).toBe('192.0.2.60');
    expect(forwarded('::1', 'for="[2001:db8:cafe::17]:4711", for=127.0.0.5').ip).toBe('2001:db8:cafe::17');
  });

  it('normalises IPv4-mapped peers and strips ports in the chain', () => {
    const resolve = createClientIpResolver({ trustProxy: 1 });
    expect(resolve('::ffff:127.0.0.1', '203.0.113.9:51234').ip).toBe('203.0.113.9');
    expect(resolve('::ffff:127.0.0.1', '[2001:db8::5]:443').ip).toBe('2001:db8::5');
  });

  it('counting hops gives the address walking the same hops as trusted ranges would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 6 }), (hops, chain) => {
        // Every hop is trusted by range, so the walk stops only where the hop count says.
        const byCount = createClientIpResolver({ trustProxy: hops });
        const everyone = createClientIpResolver({ trustProxy: ['0.0.0.0/0', '::/0'] });
        const kept = chain.slice(Math.max(0, chain.length - hops));
        const header = chain.length === 0 ? undefined : chain.join(', ');
        const expected = hops === 0 ? everyone('192.0.2.1', undefined) : everyone('192.0.2.1', kept.length === 0 ? undefined : kept.join(', '));
        expect(byCount('192.0.2.1', header)).toEqual(expected);
      }),
    );
  });

  it('refuses to guess when a trusted hop forwards garbage', () => {
    const resolve = createClientIpResolver({ trustProxy: 1 });
    const result = resolve('127.0.0.1', 'definitely-not-an-ip');
    expect(result.ip).toBeUndefined();
    expect(result.issue).toMatch(/malformed/);
  });

  it.each([[-1], [1.5], ['yes'], [['10.0.0.0/99']], [['__proto__']]])('rejects trustProxy %j at set-up', (trustProxy) => {
    expect(() => createClientIpResolver({ trustProxy: trustProxy as never })).toThrow(/trustProxy/);
  });

  it('any peer and header never throw and only yield addresses that were in the input', () => {
    const resolve = createClientIpResolver({ trustProxy: ['private', 'loopback'] });
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string())), fc.option(fc.string({ maxLength: 300 })), (peer, header) => {
        const result = resolve(peer ?? undefined, header ?? undefined);
        expect(result.ip === undefined || result.issue === undefined).toBe(true);
        if (result.ip !== undefined) expect(normalizeIp(result.ip)).toBe(result.ip);
      }),
    );
  });
});

describe('e-mail normalisation', () => {
  it.each([
    ['Someone@Example.ORG', 'Someone@example.org'],
    ['Someone@example.org', 'Someone@example.org'],
    ['a@b@c.de', undefined],
    ['  a@b.co  ', 'a@b.co'],
    ['a@b', undefined],
    ['@b.co', undefined],
    ['a b@c.de', undefined],
    ['a@@b.de', undefined],
    ['a@b..de', undefined],
    [`${'x'.repeat(65)}@b.de`, undefined],
    [`a@${'b'.repeat(260)}.de`, undefined],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });
});

describe('subject extraction', () => {
  const extract = createSubjectExtractor({ trustProxy: ['loopback'] });

  it('takes IP, e-mail, username, content, user agent and string fields', () => {
    const subject = extract({
      remoteAddress: '::ffff:127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.7', 'user-agent': 'Mozilla/5.0' },
      body: { email: 'Ann@Example.org', name: 'ann', message: 'hello', website: '', count: 3 },
    });
    expect(subject).toEqual({
      ip: '203.0.113.7',
      email: 'Ann@example.org',
      username: 'ann',
      content: 'hello',
      userAgent: 'Mozilla/5.0',
      fields: { email: 'Ann@Example.org', name: 'ann', message: 'hello', website: '' },
    });
  });

  it('leaves malformed values out and says why', () => {
    const subject = extract({ remoteAddress: 'garbage', headers: {}, body: { email: 'not-an-address', message: ['x'] } });
    expect(subject.ip).toBeUndefined();
    expect(subject.email).toBeUndefined();
    expect(subject.content).toBeUndefined();
    expect(subject.issues).toEqual([
      'client IP: the connection has no usable peer address',
      'email: not a valid address, left out',
    ]);
  });

  it('reads configured field names and bounds the content', () => {
    const custom = createSubjectExtractor({ fields: { email: ['contact_mail'], content: ['text'] }, maxContentLength: 5 });
    const subject = custom({ remoteAddress: '203.0.113.1', headers: {}, body: { contact_mail: 'a@b.co', text: 'abcdefgh' } });
    expect(subject).toMatchObject({ email: 'a@b.co', content: 'abcde' });
  });

  it('reads only the facets it is asked for, and checks their names', () => {
    const ipAndContent = createSubjectExtractor({ trustProxy: ['loopback'], facets: ['ip', 'content'] });
    const request = {
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.7', 'user-agent': 'Mozilla/5.0' },
      body: { email: 'not-an-address', name: 'ann', message: 'hello', website: 'x' },
    };
    // The malformed e-mail is not even looked at, so it raises no issue either.
    expect(ipAndContent(request)).toEqual({ ip: '203.0.113.7', content: 'hello' });
    expect(createSubjectExtractor({ facets: [] })(request)).toEqual({});
    expect(() => createSubjectExtractor({ facets: ['ip', 'phone'] as never })).toThrow(/facets: expected an array of/);
  });

  it('ignores prototype-polluting keys', () => {
    const body = JSON.parse('{"__proto__": "x", "constructor": "y", "ok": "z"}') as unknown;
    const subject = extract({ remoteAddress: '203.0.113.1', headers: {}, body });
    expect(subject.fields).toEqual({ ok: 'z' });
  });

  it('rejects wrong options at set-up, all at once', () => {
    try {
      createSubjectExtractor({ maxFields: 0, fields: { email: 'email' as never }, trustProxy: 'all' as never });
      expect.unreachable();
    } catch (error) {
      expect(isConfigurationError(error)).toBe(true);
      expect((error as { issues: string[] }).issues).toHaveLength(3);
    }
  });

  it('never throws on random headers and bodies', () => {
    const headerValue = fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.string({ maxLength: 50 }), { maxLength: 4 }));
    fc.assert(
      fc.property(
        fc.option(fc.string({ maxLength: 60 })),
        fc.dictionary(fc.constantFrom('x-forwarded-for', 'forwarded', 'user-agent', 'x-real-ip'), headerValue),
        fc.anything(),
        (remoteAddress, headers, body) => {
          const subject = extract({ remoteAddress: remoteAddress ?? undefined, headers, body });
          expect(typeof subject).toBe('object');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the gate reads what its providers look at', () => {
  it('leaves out of the subject every facet no provider names, and reads all when one names none', async () => {
    const seen: Record<string, unknown>[] = [];
    const recorder = (name: string, facets?: readonly ('ip' | 'email' | 'content')[]) => ({
      name,
      local: true,
      ...(facets === undefined ? {} : { facets }),
      check: (subject: object) => {
        seen.push({ ...subject });
        return { score: 0 };
      },
    });
    const request = {
      remoteAddress: '203.0.113.7',
      headers: { 'user-agent': 'Mozilla/5.0', 'content-type': 'application/x-www-form-urlencoded' },
      body: { email: 'ann@example.org', name: 'ann', message: 'hello', website: '' },
    };
    const narrow = createGate({ engine: createFormSecurity({ providers: [recorder('ip-only', ['ip']), recorder('text', ['content'])] }) });
    await narrow.check(request);
    expect(seen).toEqual([
      { ip: '203.0.113.7', content: 'hello' },
      { ip: '203.0.113.7', content: 'hello' },
    ]);
    seen.length = 0;
    const wide = createGate({ engine: createFormSecurity({ providers: [recorder('ip-only', ['ip']), recorder('everything')] }) });
    await wide.check(request);
    expect(Object.keys(seen[0] ?? {}).sort()).toEqual(['content', 'email', 'fields', 'ip', 'userAgent', 'username']);
  });
});
