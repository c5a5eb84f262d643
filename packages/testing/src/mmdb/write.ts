/**
 * Writing a MaxMind DB (`.mmdb`) file: a binary search tree over the address bits, a
 * 16-byte zero separator, the data section, and the metadata map after the
 * `\xAB\xCD\xEFMaxMind.com` marker (MaxMind DB File Format 2.0). Small and unoptimised —
 * meant for test databases of a few networks that the `maxmind` package then reads as it
 * reads GeoIP2 files.
 */
import { parseCidr } from '@formsecurity/core';
import { encodeMmdbValue, mmdbNumber } from './encode.js';
import type { MmdbValue } from './encode.js';

/** One network and the record every address in it maps to. */
export interface MmdbNetwork {
  /** `203.0.113.0/24`, `2001:db8::/32`, or a single address. */
  readonly network: string;
  readonly record: { readonly [key: string]: MmdbValue };
}

/** Options of {@link buildMmdb}. */
export interface MmdbOptions {
  /** `database_type` in the metadata, e.g. `GeoLite2-Country`, `GeoIP2-Anonymous-IP`. */
  readonly databaseType: string;
  /** When networks overlap, the most specific one wins for the addresses it holds. */
  readonly networks: readonly MmdbNetwork[];
  /** 6 (default) holds IPv4 too, under `::/96`; 4 holds IPv4 only. */
  readonly ipVersion?: 4 | 6;
  /** Default `['en']`. */
  readonly languages?: readonly string[];
  /** Default `{ en: 'FormSecurity test database' }`. */
  readonly description?: Readonly<Record<string, string>>;
  /** Seconds since the epoch; default 0, so the same input always gives the same bytes. */
  readonly buildEpoch?: number;
  /** Bits per record: the smallest of 24, 28, 32 that fits unless given. */
  readonly recordSize?: 24 | 28 | 32;
}

const METADATA_MARKER = [0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com', 'latin1')];
const DATA_SEPARATOR_BYTES = 16;

/** What one record of a tree node points to. */
type Slot = { readonly kind: 'empty' } | { readonly kind: 'node'; readonly index: number } | { readonly kind: 'data'; readonly offset: number };

interface TreeNode {
  left: Slot;
  right: Slot;
}

const EMPTY: Slot = { kind: 'empty' };

/** Encodes records into the data section, each distinct record once. */
function buildDataSection(networks: readonly MmdbNetwork[]): { bytes: number[]; offsets: number[] } {
  const bytes: number[] = [];
  const known = new Map<string, number>();
  const offsets = networks.map(({ record }) => {
    const encoded = encodeMmdbValue(record);
    const key = Buffer.from(encoded).toString('latin1');
    let offset = known.get(key);
    if (offset === undefined) {
      offset = bytes.length;
      known.set(key, offset);
      for (const byte of encoded) bytes.push(byte);
    }
    return offset;
  });
  return { bytes, offsets };
}

/** Where each network sits in the tree: its bits from the top, and how many of them count. */
function placements(networks: readonly MmdbNetwork[], ipVersion: 4 | 6): { value: bigint; prefix: number }[] {
  return networks.map(({ network }, index) => {
    const cidr = parseCidr(network);
    if (cidr === undefined) throw new RangeError(`mmdb: networks[${index}] is not an address or CIDR range`);
    if (cidr.version === 6 && ipVersion === 4) throw new RangeError(`mmdb: networks[${index}] is IPv6 but the database is IPv4`);
    // In an IPv6 tree, IPv4 lives under ::/96, where readers look it up.
    return cidr.version === 4 && ipVersion === 6 ? { value: cidr.network, prefix: cidr.prefix + 96 } : { value: cidr.network, prefix: cidr.prefix };
  });
}

function buildTree(networks: readonly MmdbNetwork[], ipVersion: 4 | 6, offsets: readonly number[]): TreeNode[] {
  const bits = ipVersion === 4 ? 32 : 128;
  const nodes: TreeNode[] = [{ left: EMPTY, right: EMPTY }];
  const order = placements(networks, ipVersion)
    .map((placement, index) => ({ ...placement, data: { kind: 'data', offset: offsets[index] as number } as Slot }))
    // Wider networks first, so a narrower one splits the wider one's records instead of being overwritten.
    .sort((a, b) => a.prefix - b.prefix);
  for (const { value, prefix, data } of order) {
    if (prefix === 0) {
      nodes[0] = { left: data, right: data };
      continue;
    }
    let node = nodes[0] as TreeNode;
    for (let depth = 0; depth < prefix; depth++) {
      const side = ((value >> BigInt(bits - 1 - depth)) & 1n) === 1n ? 'right' : 'left';
      if (depth === prefix - 1) {
        node[side] = data;
        break;
      }
      const slot = node[side];
      if (slot.kind === 'node') {
        node = nodes[slot.index] as TreeNode;
        continue;
      }
      // An empty or data record on the way down becomes a node whose halves both keep it.
      const child: TreeNode = { left: slot, right: slot };
      nodes.push(child);
      node[side] = { kind: 'node', index: nodes.length - 1 };
      node = child;
    }
  }
  return nodes;
}

function recordValue(slot: Slot, nodeCount: number): number {
  if (slot.kind === 'node') return slot.index;
  if (slot.kind === 'empty') return nodeCount;
  return nodeCount + DATA_SEPARATOR_BYTES + slot.offset;
}

function writeNodes(nodes: readonly TreeNode[], recordSize: 24 | 28 | 32): number[] {
  const out: number[] = [];
  for (const node of nodes) {
    const left = recordValue(node.left, nodes.length);
    const right = recordValue(node.right, nodes.length);
    const be = (value: number, count: number): number[] =>
      Array.from({ length: count }, (_, i) => Math.floor(value / 2 ** (8 * (count - 1 - i))) & 0xff);
    if (recordSize === 24) out.push(...be(left, 3), ...be(right, 3));
    else if (recordSize === 32) out.push(...be(left, 4), ...be(right, 4));
    // 28 bits: the middle byte holds the top nibble of each record, the left one high.
    else out.push(...be(left, 3), ((Math.floor(left / 2 ** 24) & 0x0f) << 4) | (Math.floor(right / 2 ** 24) & 0x0f), ...be(right, 3));
  }
  return out;
}

function chooseRecordSize(largest: number, wanted: 24 | 28 | 32 | undefined): 24 | 28 | 32 {
  const fits = (size: number): boolean => largest < 2 ** size;
  if (wanted !== undefined) {
    if (!fits(wanted)) throw new RangeError(`mmdb: ${wanted}-bit records cannot address ${largest}`);
    return wanted;
  }
  if (fits(24)) return 24;
  return fits(28) ? 28 : 32;
}

/**
 * Builds a MaxMind DB file in memory.
 *
 * @example
 * const bytes = buildMmdb({
 *   databaseType: 'GeoLite2-Country',
 *   networks: [{ network: '203.0.113.0/24', record: { country: { iso_code: 'DE' } } }],
 * });
 * await writeFile('test.mmdb', bytes); // maxmind.open('test.mmdb') reads it
 */
export function buildMmdb(options: MmdbOptions): Uint8Array {
  const ipVersion = options.ipVersion ?? 6;
  const { bytes: data, offsets } = buildDataSection(options.networks);
  const nodes = buildTree(options.networks, ipVersion, offsets);
  const recordSize = chooseRecordSize(nodes.length + DATA_SEPARATOR_BYTES + data.length, options.recordSize);
  const metadata = encodeMmdbValue({
    binary_format_major_version: mmdbNumber('uint16', 2),
    binary_format_minor_version: mmdbNumber('uint16', 0),
    build_epoch: mmdbNumber('uint64', options.buildEpoch ?? 0),
    database_type: options.databaseType,
    description: { ...(options.description ?? { en: 'FormSecurity test database' }) },
    ip_version: mmdbNumber('uint16', ipVersion),
    languages: [...(options.languages ?? ['en'])],
    node_count: mmdbNumber('uint32', nodes.length),
    record_size: mmdbNumber('uint16', recordSize),
  });
  return Uint8Array.from([
    ...writeNodes(nodes, recordSize),
    ...new Array<number>(DATA_SEPARATOR_BYTES).fill(0),
    ...data,
    ...METADATA_MARKER,
    ...metadata,
  ]);
}
