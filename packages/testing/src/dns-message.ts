/**
 * Just enough of the DNS wire format (RFC 1035, EDNS from RFC 6891) for a loopback
 * DNSBL server: read one query, write an answer of A records or an error code.
 * Every read is bounds-checked; a message that does not parse is refused, never thrown
 * out of the server.
 */

/** Response codes the fake answers with. */
export const DnsRcode = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;
export type DnsRcodeValue = (typeof DnsRcode)[keyof typeof DnsRcode];

/** Record types the fake tells apart. */
export const DnsType = { a: 1, aaaa: 28, opt: 41 } as const;

const CLASS_IN = 1;
const HEADER_BYTES = 12;
const MAX_NAME_BYTES = 255;
const MAX_LABEL_BYTES = 63;
const MAX_POINTER_HOPS = 16;
/** The EDNS payload size the fake advertises: the size DNS Flag Day 2020 recommends. */
const EDNS_UDP_PAYLOAD = 1232;

/** One parsed query. */
export interface DnsQuery {
  readonly id: number;
  readonly opcode: number;
  /** Recursion desired, echoed in the answer. */
  readonly recursionDesired: boolean;
  /** The question name in lower case, without a trailing dot. */
  readonly name: string;
  readonly type: number;
  readonly qclass: number;
  /** The question section exactly as sent (case included), echoed in the answer. */
  readonly questionBytes: Buffer;
  /** Whether the query carried an EDNS OPT record; the answer then carries one too. */
  readonly edns: boolean;
}

/** Why a message could not be read as a query; `id` is set when the header was readable. */
export interface DnsParseFailure {
  readonly error: string;
  readonly id?: number;
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Buffer) {}

  need(count: number): void {
    if (this.offset + count > this.bytes.length) throw new RangeError('message ends early');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++] as number;
  }

  u16(): number {
    this.need(2);
    const value = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  skip(count: number): void {
    this.need(count);
    this.offset += count;
  }

  /** Reads a name, following compression pointers a bounded number of times. */
  name(): string {
    const labels: string[] = [];
    let total = 0;
    let hops = 0;
    let position = this.offset;
    let resumeAt: number | undefined;
    for (;;) {
      if (position >= this.bytes.length) throw new RangeError('name runs past the message');
      const length = this.bytes[position] as number;
      if ((length & 0xc0) === 0xc0) {
        if (position + 1 >= this.bytes.length) throw new RangeError('name pointer runs past the message');
        if (++hops > MAX_POINTER_HOPS) throw new RangeError('name pointers loop');
        resumeAt ??= position + 2;
        position = ((length & 0x3f) << 8) | (this.bytes[position + 1] as number);
        continue;
      }
      if ((length & 0xc0) !== 0) throw new RangeError('unknown label type');
      position += 1;
      if (length === 0) break;
      if (length > MAX_LABEL_BYTES) throw new RangeError('label too long');
      if (position + length > this.bytes.length) throw new RangeError('label runs past the message');
      total += length + 1;
      if (total > MAX_NAME_BYTES) throw new RangeError('name too long');
      labels.push(this.bytes.toString('latin1', position, position + length).toLowerCase());
      position += length;
    }
    this.offset = resumeAt ?? position;
    return labels.join('.');
  }
}

/** Skips one resource record, returning its type. */
function skipRecord(reader: Reader): number {
  reader.name();
  const type = reader.u16();
  reader.skip(6); // class, TTL
  reader.skip(reader.u16());
  return type;
}

/**
 * Reads one DNS query. A response, a message without exactly one question, or a message
 * cut short is a failure (with the id when the header could be read, so it can be refused).
 *
 * @example
 * const parsed = parseDnsQuery(datagram);
 * if ('error' in parsed) refuse(parsed.id); else answer(parsed.name, parsed.type);
 */
export function parseDnsQuery(bytes: Buffer): DnsQuery | DnsParseFailure {
  if (bytes.length < HEADER_BYTES) return { error: 'shorter than a DNS header' };
  const reader = new Reader(bytes);
  const id = reader.u16();
  const flags = reader.u16();
  const questions = reader.u16();
  const answers = reader.u16();
  const authorities = reader.u16();
  const additionals = reader.u16();
  if ((flags & 0x8000) !== 0) return { error: 'not a query', id };
  if (questions !== 1) return { error: `expected one question, got ${questions}`, id };
  try {
    const questionStart = reader.offset;
    const name = reader.name();
    const type = reader.u16();
    const qclass = reader.u16();
    const questionBytes = Buffer.from(bytes.subarray(questionStart, reader.offset));
    let edns = false;
    for (let i = 0; i < answers + authorities + additionals; i++) {
      if (skipRecord(reader) === DnsType.opt) edns = true;
    }
    return {
      id,
      opcode: (flags >> 11) & 0x0f,
      recursionDesired: (flags & 0x0100) !== 0,
      name,
      type,
      qclass,
      questionBytes,
      edns,
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : 'unreadable', id };
  }
}

/** What to answer to one query. */
export interface DnsAnswerSpec {
  readonly rcode: DnsRcodeValue;
  /** IPv4 addresses answered as A records for the question's name (only with NOERROR). */
  readonly addresses?: readonly string[];
  /** Record lifetime in seconds (default 60). */
  readonly ttl?: number;
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.').map((part) => Number(part));
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new RangeError(`not an IPv4 address: ${address}`);
  }
  return Buffer.from(parts);
}

function header(id: number, flags: number, counts: readonly [number, number, number, number]): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeUInt16BE(id, 0);
  bytes.writeUInt16BE(flags, 2);
  counts.forEach((count, index) => bytes.writeUInt16BE(count, 4 + index * 2));
  return bytes;
}

/** An OPT pseudo-record: root name, our payload size, no extended flags, no options. */
function optRecord(): Buffer {
  const bytes = Buffer.alloc(11);
  bytes.writeUInt8(0, 0);
  bytes.writeUInt16BE(DnsType.opt, 1);
  bytes.writeUInt16BE(EDNS_UDP_PAYLOAD, 3);
  return bytes;
}

/** An A record whose name points back at the question (offset 12, right after the header). */
function aRecord(address: string, ttl: number): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt16BE(0xc000 | HEADER_BYTES, 0);
  bytes.writeUInt16BE(DnsType.a, 2);
  bytes.writeUInt16BE(CLASS_IN, 4);
  bytes.writeUInt32BE(ttl, 6);
  bytes.writeUInt16BE(4, 10);
  ipv4Bytes(address).copy(bytes, 12);
  return bytes;
}

/**
 * Writes the answer to a query: the question echoed byte for byte (so a client's 0x20
 * case randomisation still matches), authoritative, recursion available, and an OPT
 * record when the query had one.
 *
 * @example
 * socket.send(encodeDnsAnswer(query, { rcode: DnsRcode.noError, addresses: ['127.0.0.2'] }), port, host);
 */
export function encodeDnsAnswer(query: DnsQuery, spec: DnsAnswerSpec): Buffer {
  const addresses = spec.rcode === DnsRcode.noError ? (spec.addresses ?? []) : [];
  const ttl = spec.ttl ?? 60;
  const flags = 0x8000 | ((query.opcode & 0x0f) << 11) | 0x0400 | (query.recursionDesired ? 0x0100 : 0) | 0x0080 | spec.rcode;
  return Buffer.concat([
    header(query.id, flags, [1, addresses.length, 0, query.edns ? 1 : 0]),
    query.questionBytes,
    ...addresses.map((address) => aRecord(address, ttl)),
    ...(query.edns ? [optRecord()] : []),
  ]);
}

/**
 * A bare error answer for a message that could not be read as a query: the header only,
 * no question (RFC 1035 allows it for FORMERR).
 *
 * @example
 * socket.send(encodeDnsFailure(parsed.id, DnsRcode.formErr), port, host);
 */
export function encodeDnsFailure(id: number, rcode: DnsRcodeValue): Buffer {
  return header(id, 0x8000 | 0x0080 | rcode, [0, 0, 0, 0]);
}

/**
 * Writes a query; used by the fake's own tests and by anyone probing it without a resolver.
 *
 * @example
 * socket.send(encodeDnsQuery(1, '2.0.0.127.zen.spamhaus.org', DnsType.a, { edns: true }), dns.port, '127.0.0.1');
 */
export function encodeDnsQuery(id: number, name: string, type: number, options: { edns?: boolean } = {}): Buffer {
  const labels = name.split('.').filter((label) => label !== '');
  if (labels.some((label) => label.length > MAX_LABEL_BYTES)) throw new RangeError('label too long');
  const nameBytes = Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])),
    Buffer.from([0]),
  ]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header(id, 0x0100, [1, 0, 0, options.edns ? 1 : 0]), nameBytes, tail, ...(options.edns ? [optRecord()] : [])]);
}

/**
 * Reads an answer's rcode and A-record addresses; for tests of the fake itself.
 *
 * @example
 * decodeDnsAnswer(datagram); // { id: 1, rcode: 0, addresses: ['127.0.0.2'], edns: true }
 */
export function decodeDnsAnswer(bytes: Buffer): { id: number; rcode: number; addresses: string[]; edns: boolean } {
  const reader = new Reader(bytes);
  const id = reader.u16();
  const flags = reader.u16();
  const questions = reader.u16();
  const answers = reader.u16();
  const authorities = reader.u16();
  const additionals = reader.u16();
  for (let i = 0; i < questions; i++) {
    reader.name();
    reader.skip(4);
  }
  const addresses: string[] = [];
  for (let i = 0; i < answers; i++) {
    reader.name();
    const type = reader.u16();
    reader.skip(6);
    const length = reader.u16();
    reader.need(length);
    if (type === DnsType.a && length === 4) addresses.push([...bytes.subarray(reader.offset, reader.offset + 4)].join('.'));
    reader.skip(length);
  }
  let edns = false;
  for (let i = 0; i < authorities + additionals; i++) if (skipRecord(reader) === DnsType.opt) edns = true;
  return { id, rcode: flags & 0x0f, addresses, edns };
}
