import { parseCidr, parseIp } from '@formsecurity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mmdbNumber } from '../src/mmdb/encode.js';
import { buildAnonymousIpDatabase, buildCountryDatabase } from '../src/mmdb/geoip.js';
import { buildMmdb } from '../src/mmdb/write.js';

/**
 * A reader written from the format specification, independent of the writer: it decodes
 * the metadata, walks the search tree bit by bit and decodes the data section. It refuses
 * pointers, which the writer promises never to emit.
 */
function openMmdb(bytes: Uint8Array): { metadata: Record<string, unknown>; get(ip: string): unknown } {
  const buffer = Buffer.from(bytes);
  const marker = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com')]);
  const markerAt = buffer.lastIndexOf(marker);
  if (markerAt < 0) throw new Error('no metadata marker');

  function decode(offset: number): [unknown, number] {
    const control = buffer[offset++] as number;
    let type = control >> 5;
    if (type === 0) type = 7 + (buffer[offset++] as number);
    if (type === 1) throw new Error('pointer found');
    let size = control & 0x1f;
    if (type === 14) return [size === 1, offset];
    if (size === 29) size = 29 + (buffer[offset++] as number);
    else if (size === 30) size = 285 + buffer.readUInt16BE((offset += 2) - 2);
    else if (size === 31) size = 65_821 + buffer.readUIntBE((offset += 3) - 3, 3);
    const payload = buffer.subarray(offset, offset + size);
    switch (type) {
      case 2:
        return [payload.toString('utf8'), offset + size];
      case 3:
        expect(size).toBe(8);
        return [payload.readDoubleBE(0), offset + size];
      case 15:
        expect(size).toBe(4);
        return [payload.readFloatBE(0), offset + size];
      case 4:
        return [Uint8Array.from(payload), offset + size];
      case 5:
      case 6:
        return [size === 0 ? 0 : payload.readUIntBE(0, size), offset + size];
      case 8:
        return [size === 4 ? payload.readInt32BE(0) : size === 0 ? 0 : payload.readUIntBE(0, size), offset + size];
      case 9:
      case 10:
        return [payload.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n), offset + size];
      case 7: {
        const map: Record<string, unknown> = {};
        for (let i = 0; i < size; i++) {
          const [key, afterKey] = decode(offset);
          const [value, afterValue] = decode(afterKey);
          map[key as string] = value;
          offset = afterValue;
        }
        return [map, offset];
      }
      case 11: {
        const items: unknown[] = [];
        for (let i = 0; i < size; i++) {
          const [value, after] = decode(offset);
          items.push(value);
          offset = after;
        }
        return [items, offset];
      }
      default:
        throw new Error(`unexpected type ${type}`);
    }
  }

  const [metadata] = decode(markerAt + marker.length) as [Record<string, unknown>, number];
  const nodeCount = metadata['node_count'] as number;
  const recordSize = metadata['record_size'] as number;
  const nodeBytes = recordSize / 4;
  const dataStart = nodeCount * nodeBytes + 16;
  expect([...buffer.subarray(nodeCount * nodeBytes, dataStart)]).toEqual(new Array(16).fill(0));

  function record(node: number, right: boolean): number {
    const at = node * nodeBytes;
    if (recordSize === 24) return buffer.readUIntBE(at + (right ? 3 : 0), 3);
    if (recordSize === 32) return buffer.readUInt32BE(at + (right ? 4 : 0));
    const middle = buffer[at + 3] as number;
    return right
      ? (middle & 0x0f) * 2 ** 24 + buffer.readUIntBE(at + 4, 3)
      : (middle >> 4) * 2 ** 24 + buffer.readUIntBE(at, 3);
  }

  return {
    metadata,
    get(ip) {
      const parsed = parseIp(ip);
      if (parsed === undefined) throw new Error('not an address');
      const bits = metadata['ip_version'] === 4 ? 32 : 128;
      let node = 0;
      for (let depth = 0; depth < bits && node < nodeCount; depth++) {
        node = record(node, ((parsed.value >> BigInt(bits - 1 - depth)) & 1n) === 1n);
      }
      if (node === nodeCount) return null;
      if (node < nodeCount) throw new Error('ran out of address bits inside the tree');
      return decode(dataStart + node - nodeCount - 16)[0];
    },
  };
}

describe('buildMmdb', () => {
  it('writes the metadata a MaxMind reader expects', () => {
    const db = openMmdb(
      buildMmdb({
        databaseType: 'Test-Type',
        languages: ['en', 'de'],
        description: { en: 'a test' },
        buildEpoch: 1_700_000_000,
        networks: [{ network: '192.0.2.0/24', record: { a: 1 } }],
      }),
    );
    expect(db.metadata).toEqual({
      binary_format_major_version: 2,
      binary_format_minor_version: 0,
      build_epoch: 1_700_000_000n,
      database_type: 'Test-Type',
      description: { en: 'a test' },
      ip_version: 6,
      languages: ['en', 'de'],
      node_count: expect.any(Number),
      record_size: 24,
    });
  });

  it('maps each address to its most specific network, in IPv6 and IPv4 trees and every record size', () => {
    const networks = [
      { network: '198.51.100.0/24', record: { name: 'wide' } },
      { network: '198.51.100.128/25', record: { name: 'narrow' } },
      { network: '198.51.100.200', record: { name: 'host' } },
      { network: '2001:db8::/32', record: { name: 'six' } },
    ];
    for (const recordSize of [24, 28, 32] as const) {
      const six = openMmdb(buildMmdb({ databaseType: 'T', networks, recordSize }));
      expect(six.metadata['record_size']).toBe(recordSize);
      expect(six.get('198.51.100.1')).toEqual({ name: 'wide' });
      expect(six.get('198.51.100.129')).toEqual({ name: 'narrow' });
      expect(six.get('198.51.100.200')).toEqual({ name: 'host' });
      expect(six.get('198.51.101.1')).toBeNull();
      expect(six.get('2001:db8:ffff::1')).toEqual({ name: 'six' });
      expect(six.get('2001:db9::1')).toBeNull();
      // IPv4 lives under ::/96 of an IPv6 tree, where readers look it up.
      expect(six.get('::c633:6401')).toEqual({ name: 'wide' });
    }
    const four = openMmdb(buildMmdb({ databaseType: 'T', ipVersion: 4, networks: networks.slice(0, 3) }));
    expect(four.metadata['ip_version']).toBe(4);
    expect(four.get('198.51.100.129')).toEqual({ name: 'narrow' });
    expect(four.get('8.8.8.8')).toBeNull();
  });

  it('gives the same answer as a brute-force search over random networks', () => {
    const network = fc.record({ address: fc.integer({ min: 0, max: 0xffff_ffff }), prefix: fc.integer({ min: 1, max: 32 }) });
    fc.assert(
      fc.property(fc.array(network, { minLength: 1, maxLength: 25 }), fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 25 }), (raw, probes) => {
        const text = (value: number): string => [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
        const networks = raw.map(({ address, prefix }, index) => ({ network: `${text(address)}/${prefix}`, record: { index } }));
        const ranges = networks.map(({ network }) => parseCidr(network)!);
        const db = openMmdb(buildMmdb({ databaseType: 'T', networks }));
        // Probe the networks' own first addresses too, so most probes hit something.
        for (const probe of [...probes, ...ranges.map((range) => Number(range.network))]) {
          let best: { prefix: number; index: number } | undefined;
          ranges.forEach((range, index) => {
            const mask = range.prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - range.prefix)) - 1n);
            // Among equally specific duplicates, the later entry wins.
            if ((BigInt(probe) & mask) === range.network && (best === undefined || range.prefix >= best.prefix)) best = { prefix: range.prefix, index };
          });
          expect(db.get(text(probe))).toEqual(best === undefined ? null : { index: best.index });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('encodes every value type, with long strings needing each size form', () => {
    const record = {
      short: 'héllo',
      medium: 'm'.repeat(200),
      long: 'l'.repeat(1000),
      longest: 'x'.repeat(70_000),
      whole: 7,
      zero: 0,
      negative: -5,
      fraction: 1.5,
      pinnedDouble: mmdbNumber('double', 52),
      float: mmdbNumber('float', 0.25),
      small: mmdbNumber('uint16', 65_535),
      big: 2n ** 60n,
      huge: 2n ** 100n,
      bytes: new Uint8Array([1, 2, 255]),
      yes: true,
      no: false,
      list: [1, 'a', false, { nested: [] }],
      empty: {},
    };
    const value = openMmdb(buildMmdb({ databaseType: 'T', networks: [{ network: '192.0.2.1', record }] })).get('192.0.2.1');
    expect(value).toEqual({ ...record, pinnedDouble: 52, float: 0.25, small: 65_535 });
  });

  it('stores identical records once and gives the same bytes for the same input', () => {
    const same = Array.from({ length: 50 }, (_, i) => ({ network: `10.0.${i}.0/24`, record: { country: { iso_code: 'DE' } } }));
    const distinct = same.map((entry, i) => ({ ...entry, record: { country: { iso_code: `D${i}` } } }));
    const shared = buildMmdb({ databaseType: 'T', networks: same });
    expect(shared.length).toBeLessThan(buildMmdb({ databaseType: 'T', networks: distinct }).length - 49 * 10);
    expect(Buffer.from(buildMmdb({ databaseType: 'T', networks: same })).equals(Buffer.from(shared))).toBe(true);
  });

  it('refuses what it cannot write', () => {
    expect(() => buildMmdb({ databaseType: 'T', networks: [{ network: 'nope', record: {} }] })).toThrow(/networks\[0\]/);
    expect(() => buildMmdb({ databaseType: 'T', ipVersion: 4, networks: [{ network: '2001:db8::/32', record: {} }] })).toThrow(/IPv6/);
    expect(() => buildMmdb({ databaseType: 'T', networks: [{ network: '192.0.2.1', record: { n: mmdbNumber('uint16', 70_000) } }] })).toThrow(RangeError);
  });
});

describe('GeoIP-shaped databases', () => {
  it('builds Country records in the GeoLite2 layout', () => {
    const db = openMmdb(
      buildCountryDatabase([
        { network: '203.0.113.0/24', country: 'de', continent: 'eu' },
        { network: '198.51.100.7', country: 'RU', registeredCountry: 'NL', isAnonymousProxy: true },
      ]),
    );
    expect(db.metadata['database_type']).toBe('GeoLite2-Country');
    expect(db.get('203.0.113.9')).toEqual({
      continent: { code: 'EU' },
      country: { iso_code: 'DE', names: { en: 'Germany' } },
      registered_country: { iso_code: 'DE', names: { en: 'Germany' } },
    });
    expect(db.get('198.51.100.7')).toEqual({
      country: { iso_code: 'RU', names: { en: 'Russia' } },
      registered_country: { iso_code: 'NL', names: { en: 'Netherlands' } },
      traits: { is_anonymous_proxy: true },
    });
    expect(() => buildCountryDatabase([{ network: '192.0.2.0/24', country: 'Germany' }])).toThrow(/networks\[0\]\.country/);
  });

  it('builds Anonymous IP records with only the true flags, is_anonymous included', () => {
    const db = openMmdb(
      buildAnonymousIpDatabase([
        { network: '198.51.100.0/24', vpn: true, torExitNode: true },
        { network: '192.0.2.0/24', hosting: true },
        { network: '203.0.113.0/24' },
      ]),
    );
    expect(db.metadata['database_type']).toBe('GeoIP2-Anonymous-IP');
    expect(db.get('198.51.100.3')).toEqual({ is_anonymous: true, is_anonymous_vpn: true, is_tor_exit_node: true });
    expect(db.get('192.0.2.3')).toEqual({ is_anonymous: true, is_hosting_provider: true });
    expect(db.get('203.0.113.3')).toEqual({});
  });
});
