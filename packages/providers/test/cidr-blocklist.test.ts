import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigurationError } from '@formsecurity/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cidrBlocklist, parseCidrListText } from '../src/index.js';

const directory = mkdtempSync(join(tmpdir(), 'fs-cidr-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const never = (): AbortSignal => new AbortController().signal;

function writeList(name: string, text: string): string {
  const file = join(directory, name);
  writeFileSync(file, text);
  return file;
}

function configurationIssues(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isConfigurationError(error)) return error.issues.join('\n');
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('cidrBlocklist', () => {
  const blocklist = cidrBlocklist({ ranges: ['203.0.113.0/24', '2001:db8:bad::/48', '198.51.100.17'] });

  it('is a local ip provider', () => {
    expect(blocklist).toMatchObject({ name: 'cidr-blocklist', facets: ['ip'], local: true });
  });

  it('scores an IPv4 address inside a range, naming the range', async () => {
    expect(await blocklist.check({ ip: '203.0.113.200' }, { signal: never() })).toEqual({
      score: 1,
      reasons: ['IP in blocklist range 203.0.113.0/24'],
      data: { range: '203.0.113.0/24' },
    });
    expect((await blocklist.check({ ip: '198.51.100.17' }, { signal: never() })).data).toEqual({ range: '198.51.100.17/32' });
  });

  it('scores an IPv6 address inside a range', async () => {
    const result = await blocklist.check({ ip: '2001:db8:bad:1::99' }, { signal: never() });
    expect(result.score).toBe(1);
    expect(result.reasons).toEqual(['IP in blocklist range 2001:db8:bad::/48']);
  });

  it('matches IPv4-mapped IPv6 input against IPv4 ranges', async () => {
    expect((await blocklist.check({ ip: '::ffff:203.0.113.9' }, { signal: never() })).score).toBe(1);
  });

  it('scores addresses outside every range, and subjects without an address, 0', async () => {
    for (const ip of ['203.0.114.1', '198.51.100.18', '2001:db8:bae::1', 'not-an-ip']) {
      expect(await blocklist.check({ ip }, { signal: never() }), ip).toEqual({ score: 0, reasons: [] });
    }
    expect(await blocklist.check({}, { signal: never() })).toEqual({ score: 0, reasons: [] });
  });

  it('uses the configured name and score', async () => {
    const soft = cidrBlocklist({ name: 'hosting-ranges', ranges: ['192.0.2.0/24'], score: 0.4 });
    expect(soft.name).toBe('hosting-ranges');
    expect((await soft.check({ ip: '192.0.2.1' }, { signal: never() })).score).toBe(0.4);
  });

  it('loads a file with comments, blank lines and CRLF endings, together with inline ranges', async () => {
    const file = writeList('list.txt', '# networks we refuse\r\n\r\n192.0.2.0/25   # lab\r\n  2001:db8::/32\r\n#198.51.100.0/24\r\n');
    const fromFile = cidrBlocklist({ file, ranges: ['10.0.0.0/8'] });
    const check = async (ip: string): Promise<number> => (await fromFile.check({ ip }, { signal: never() })).score;
    expect(await check('192.0.2.100')).toBe(1);
    expect(await check('192.0.2.200')).toBe(0);
    expect(await check('2001:db8:1::1')).toBe(1);
    expect(await check('198.51.100.1')).toBe(0);
    expect(await check('10.1.2.3')).toBe(1);
  });

  it('names the file and line of a bad entry', () => {
    const file = writeList('bad.txt', '# header\n192.0.2.0/24\n\n300.1.2.3/8\n');
    const issues = configurationIssues(() => cidrBlocklist({ file }));
    expect(issues).toContain('cidrBlocklist.file');
    expect(issues).toContain(`${file} line 4`);
    expect(issues).toContain('300.1.2.3/8');
  });

  it('names the index of a bad inline range, and an unreadable file', () => {
    expect(configurationIssues(() => cidrBlocklist({ ranges: ['10.0.0.0/8', '10.0.0.0/33'] }))).toContain('cidrBlocklist.ranges[1]');
    expect(configurationIssues(() => cidrBlocklist({ file: join(directory, 'missing.txt') }))).toMatch(/cidrBlocklist\.file: cannot read .*ENOENT/);
  });

  it('refuses missing ranges and out-of-range scores', () => {
    expect(configurationIssues(() => cidrBlocklist({}))).toContain('give ranges, file or both');
    expect(configurationIssues(() => cidrBlocklist({ ranges: [], score: 1.5 }))).toContain('cidrBlocklist.score');
  });
});

describe('parseCidrListText', () => {
  it('returns the ranges of the meaningful lines', () => {
    expect(parseCidrListText('# only comments\n\n203.0.113.5\n::1/128 # loopback\n', 'x.txt')).toEqual([
      { version: 4, network: 0xcb007105n, prefix: 32 },
      { version: 6, network: 1n, prefix: 128 },
    ]);
  });
});
