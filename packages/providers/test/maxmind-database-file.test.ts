// Needs the optional peer `maxmind` (devDependency of the repository). Place in packages/providers/test/.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigurationError } from '@formsecurity/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnonymousIpDatabase, buildCountryDatabase } from '../../testing/src/mmdb/geoip.js';
import { maxmindDatabase } from '../src/maxmind/database.js';

const signal = new AbortController().signal;
let dir: string;
let countryFile: string;
let anonymousFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-mmdb-'));
  countryFile = join(dir, 'country.mmdb');
  anonymousFile = join(dir, 'anonymous.mmdb');
  await writeFile(
    countryFile,
    buildCountryDatabase([
      { network: '203.0.113.0/24', country: 'DE', continent: 'EU' },
      { network: '203.0.113.128/25', country: 'FR', continent: 'EU' },
      { network: '2001:db8:1::/48', country: 'KP', continent: 'AS' },
    ]),
  );
  await writeFile(anonymousFile, buildAnonymousIpDatabase([{ network: '198.51.100.0/24', vpn: true }, { network: '192.0.2.0/24', hosting: true }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('maxmindDatabase reading .mmdb files with the maxmind package', () => {
  it('locates addresses in a Country database, the most specific network first, IPv4 and IPv6', async () => {
    const geo = maxmindDatabase({ file: countryFile, denyCountries: ['KP'], allowCountries: ['DE', 'AT'] });
    await geo.ready();
    expect(await geo.check({ ip: '203.0.113.7' }, { signal })).toEqual({
      score: 0,
      reasons: [],
      data: { countryCode: 'DE', country: 'Germany', continentCode: 'EU' },
    });
    const outside = await geo.check({ ip: '203.0.113.200' }, { signal });
    expect([outside.score, outside.reasons]).toEqual([0.6, ['Country FR is outside the allowed countries (maxmind-db)']]);
    const denied = await geo.check({ ip: '2001:db8:1::5' }, { signal });
    expect([denied.score, denied.data]).toEqual([1, { countryCode: 'KP', country: 'North Korea', continentCode: 'AS' }]);
    expect(await geo.check({ ip: '8.8.8.8' }, { signal })).toEqual({ score: 0, reasons: ['IP address is not in the database (maxmind-db)'] });
  });

  it('reads an Anonymous IP database for the proxy and hosting rules', async () => {
    const anonymous = maxmindDatabase({ file: anonymousFile, name: 'maxmind-anonymous', flagProxy: true, flagHosting: true });
    expect((await anonymous.check({ ip: '198.51.100.9' }, { signal })).reasons).toEqual(['IP is a proxy, VPN or Tor exit (maxmind-anonymous)']);
    expect((await anonymous.check({ ip: '192.0.2.9' }, { signal })).reasons).toEqual(['IP belongs to a hosting provider (maxmind-anonymous)']);
    expect((await anonymous.check({ ip: '203.0.113.7' }, { signal })).score).toBe(0);
  });

  it('fails with a configuration error while the file is missing, and opens it once it is there', async () => {
    const later = join(dir, 'later.mmdb');
    const geo = maxmindDatabase({ file: later });
    const error: unknown = await geo.ready().catch((caught: unknown) => caught);
    expect(isConfigurationError(error) && error.issues[0]).toBe(`maxmindDatabase.file: cannot open ${later} as a MaxMind database (ENOENT)`);
    await writeFile(later, buildCountryDatabase([{ network: '203.0.113.0/24', country: 'AT' }]));
    expect((await geo.check({ ip: '203.0.113.1' }, { signal })).data).toMatchObject({ countryCode: 'AT' });
  });

  it('refuses a file that is not a MaxMind database', async () => {
    const junk = join(dir, 'junk.mmdb');
    await writeFile(junk, 'not a database');
    const error: unknown = await maxmindDatabase({ file: junk }).ready().catch((caught: unknown) => caught);
    expect(isConfigurationError(error) && error.issues[0]).toMatch(/^maxmindDatabase\.file: cannot open .*junk\.mmdb as a MaxMind database/);
  });
});
