import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import { describe, expect, it } from 'vitest';
import { maxmindDatabase } from '../src/maxmind/database.js';
import type { MaxmindReader } from '../src/maxmind/database.js';
import { providerContract } from '../../testing/src/contract-suite.js';

// Records as MaxMind's Country and Anonymous IP databases lay them out (see @formsecurity/testing's mmdb builders).
const RECORDS: Record<string, unknown> = {
  '203.0.113.7': {
    continent: { code: 'EU' },
    country: { iso_code: 'DE', names: { en: 'Germany' } },
    registered_country: { iso_code: 'DE', names: { en: 'Germany' } },
  },
  '198.51.100.7': { country: { iso_code: 'KP', names: { en: 'North Korea' } }, traits: { is_anonymous_proxy: true } },
  '192.0.2.1': { is_anonymous: true, is_anonymous_vpn: true },
  '192.0.2.2': { is_anonymous: true, is_hosting_provider: true },
  '192.0.2.3': { country: 'DE' },
};

/** A reader over fixed records, with the maxmind package's Reader interface (`get`, `metadata`). */
function reader(ipVersion: 4 | 6 = 6): MaxmindReader & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    metadata: { ipVersion },
    get(ip) {
      lookups.push(ip);
      if (ip === '192.0.2.99') throw new Error('Invalid data in database');
      if (ipVersion === 4 && ip.includes(':')) throw new Error('Cannot look up an IPv6 address in an IPv4-only database');
      return RECORDS[ip] ?? null;
    },
  };
}
const signal = new AbortController().signal;

describe('maxmindDatabase with an opened reader', () => {
  it('returns the record facts as data and applies the country lists', async () => {
    const geo = maxmindDatabase({ reader: reader(), denyCountries: ['KP'], allowCountries: ['DE', 'AT'] });
    expect(await geo.check({ ip: '203.0.113.7' }, { signal })).toEqual({
      score: 0,
      reasons: [],
      data: { countryCode: 'DE', country: 'Germany', continentCode: 'EU' },
    });
    const denied = await geo.check({ ip: '198.51.100.7' }, { signal });
    expect(denied.score).toBe(1);
    expect(denied.reasons).toEqual(['Country KP is denied (maxmind-db)']);
    expect(denied.data).toMatchObject({ isAnonymous: true });
  });

  it('reads Anonymous IP records: a VPN is a proxy, an anonymous hosting provider only hosting', async () => {
    const geo = maxmindDatabase({ reader: reader(), flagProxy: true, flagHosting: true, name: 'maxmind-anonymous' });
    const vpn = await geo.check({ ip: '192.0.2.1' }, { signal });
    expect([vpn.score, vpn.reasons]).toEqual([0.5, ['IP is a proxy, VPN or Tor exit (maxmind-anonymous)']]);
    const hosting = await geo.check({ ip: '192.0.2.2' }, { signal });
    expect([hosting.score, hosting.reasons]).toEqual([0.4, ['IP belongs to a hosting provider (maxmind-anonymous)']]);
    // The deprecated is_anonymous_proxy of Country records counts as a proxy too.
    expect((await geo.check({ ip: '198.51.100.7' }, { signal })).score).toBe(0.5);
  });

  it('scores an address the database does not hold 0, with a reason', async () => {
    const geo = maxmindDatabase({ reader: reader(), allowCountries: ['DE'] });
    expect(await geo.check({ ip: '8.8.8.8' }, { signal })).toEqual({ score: 0, reasons: ['IP address is not in the database (maxmind-db)'] });
    // An IPv4-only database cannot hold IPv6: not there, rather than broken.
    const four = maxmindDatabase({ reader: reader(4) });
    expect((await four.check({ ip: '2001:db8::1' }, { signal })).score).toBe(0);
  });

  it('refuses a non-address without a lookup, and reports a failing lookup or a misshapen record as malformed', async () => {
    const source = reader();
    const geo = maxmindDatabase({ reader: source });
    await expect(geo.check({ ip: 'not-an-address' }, { signal })).rejects.toMatchObject({ kind: 'invalid-input' });
    expect(source.lookups).toEqual([]);
    for (const ip of ['192.0.2.99', '192.0.2.3']) {
      const error: unknown = await geo.check({ ip }, { signal }).catch((caught: unknown) => caught);
      expect(isProviderResponseError(error) && error.kind).toBe('malformed');
      expect(String((error as Error).message)).not.toContain(ip);
    }
  });

  it('makes no lookup without an IP, and describes itself as local', async () => {
    const source = reader();
    const geo = maxmindDatabase({ reader: source, weight: 0.7 });
    expect(await geo.check({ email: 'someone@example.org' }, { signal })).toEqual({ score: 0, reasons: [] });
    expect(source.lookups).toEqual([]);
    expect([geo.name, geo.local, geo.facets, geo.defaults]).toEqual(['maxmind-db', true, ['ip'], { weight: 0.7 }]);
    await expect(geo.ready()).resolves.toBeUndefined();
  });
});

describe('maxmindDatabase configuration', () => {
  it('takes exactly one of file and reader, and names every wrong option', () => {
    const issuesOf = (run: () => unknown): string => {
      try {
        run();
      } catch (error) {
        if (isConfigurationError(error)) return error.issues.join('\n');
      }
      return '';
    };
    expect(issuesOf(() => maxmindDatabase({}))).toContain('give exactly one of file and reader');
    expect(issuesOf(() => maxmindDatabase({ file: 'a.mmdb', reader: reader() }))).toContain('give exactly one of file and reader');
    const issues = issuesOf(() =>
      maxmindDatabase({ reader: {} as MaxmindReader, name: '', weight: 2, allowCountries: ['Deutschland'] }),
    );
    for (const key of ['reader', 'name', 'weight', 'allowCountries[0]']) expect(issues).toContain(`maxmindDatabase.${key}`);
  });

  it('rejects checks and ready() with a configuration error naming the file option when the file cannot be opened', async () => {
    const geo = maxmindDatabase({ file: '/nonexistent/formsecurity-test.mmdb' });
    for (const attempt of [geo.ready(), geo.check({ ip: '203.0.113.7' }, { signal })]) {
      const error: unknown = await attempt.catch((caught: unknown) => caught);
      expect(isConfigurationError(error)).toBe(true);
      expect(isConfigurationError(error) && error.issues[0]).toMatch(/^maxmindDatabase\.file: /);
    }
  });
});

providerContract('maxmind-db (opened reader)', {
  create: () => maxmindDatabase({ reader: reader(), denyCountries: ['KP'] }),
  listed: { subject: { ip: '198.51.100.7' } },
  clean: { subject: { ip: '203.0.113.7' } },
});
