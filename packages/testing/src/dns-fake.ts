/**
 * A loopback DNS server for DNS blocklists: answers `A` queries for
 * `<reversed IP>.<zone>` names over real UDP, from listings a test sets, with faults
 * (SERVFAIL, REFUSED, no answer at all, Spamhaus' 127.255.255.x error answers, delays).
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { formatIp, parseIp } from '@formsecurity/core';
import { DnsRcode, DnsType, encodeDnsAnswer, encodeDnsFailure, parseDnsQuery } from './dns-message.js';
import type { DnsAnswerSpec, DnsQuery } from './dns-message.js';
import { createFaultSchedule } from './fault-schedule.js';
import type { FaultControl } from './fake-http-server.js';
import { createArrivalLog } from './arrival-log.js';

/** Failures the DNS fake can produce. */
export type DnsFault =
  /** Answer SERVFAIL: the resolver could not get an answer. */
  | { readonly kind: 'servfail' }
  /** Answer REFUSED: the server will not answer this client. */
  | { readonly kind: 'refused' }
  /** Send nothing: the client times out. */
  | { readonly kind: 'drop' }
  /**
   * Answer every A query with a Spamhaus error code: `127.255.255.252` (typo in the zone),
   * `.254` (query via a public resolver, the default), `.255` (too many queries).
   */
  | { readonly kind: 'lookup-error'; readonly code?: string }
  /** Answer every A query with these addresses (e.g. an ISP resolver's NXDOMAIN hijack). */
  | { readonly kind: 'answer'; readonly addresses: readonly string[] };

/** What the fake did with a query: the response code sent, or `dropped` when nothing was sent. */
export type DnsQueryOutcome = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED' | 'dropped';

/** One query as the fake saw it, logged on arrival; configured key labels are shown as `[redacted]`. */
export interface RecordedDnsQuery {
  readonly name: string;
  /** `A`, `AAAA`, or the numeric type. */
  readonly type: string;
  /** `pending` until the (possibly delayed) answer is sent or dropped. */
  readonly outcome: DnsQueryOutcome | 'pending';
  /** A-record addresses in the answer. */
  readonly addresses: readonly string[];
  /** Settles once the fake answered or dropped the query (a delayed answer cut short by `close()` counts as dropped). */
  readonly finished: Promise<DnsQueryOutcome>;
}

/** The queries a DNS fake received, in order. */
export interface DnsQueryLog {
  readonly count: number;
  readonly queries: readonly RecordedDnsQuery[];
  /** Resolves with the `count`-th query (1-based) once it has arrived; rejects after `timeoutMs` (default 5 s). */
  waitFor(count: number, timeoutMs?: number): Promise<RecordedDnsQuery>;
  clear(): void;
}

/** Options of {@link startFakeDns}. */
export interface DnsFakeOptions {
  /** `127.0.0.1` (default) or `::1`. */
  readonly host?: '127.0.0.1' | '::1';
  /** Default 0: a free port. */
  readonly port?: number;
  /**
   * Spamhaus DQS keys: a name `<reversed IP>.<key>.<zone>` is looked up as
   * `<reversed IP>.<zone>`, and the key never appears in the query log.
   */
  readonly keys?: readonly string[];
  /** How to answer queries other than A: `empty` NOERROR (default) or `notimp`. */
  readonly otherTypes?: 'empty' | 'notimp';
  /** Record lifetime in answers, seconds (default 60). */
  readonly ttl?: number;
}

/** A running DNS fake. */
export interface DnsFake {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>` or `[::1]:<port>`, as `Resolver.setServers` takes it. */
  readonly server: string;
  readonly queries: DnsQueryLog;
  readonly faults: FaultControl<DnsFault>;
  /** Lists an IP in a zone with its return codes (default `127.0.0.2`). */
  list(zone: string, ip: string, codes?: string | readonly string[]): void;
  unlist(zone: string, ip: string): void;
  /** Answers this exact name with these A records, whatever the zone. */
  setRecord(name: string, addresses: readonly string[]): void;
  /** Forgets every listing, record, fault and logged query, and drops answers still delayed. */
  reset(): void;
  /** Stops listening and drops delayed answers. */
  close(): Promise<void>;
}

const RCODE_NAMES: Record<number, DnsQueryOutcome> = {
  [DnsRcode.noError]: 'NOERROR',
  [DnsRcode.formErr]: 'FORMERR',
  [DnsRcode.servFail]: 'SERVFAIL',
  [DnsRcode.nxDomain]: 'NXDOMAIN',
  [DnsRcode.notImp]: 'NOTIMP',
  [DnsRcode.refused]: 'REFUSED',
};
const REDACTED = '[redacted]';

const normalName = (name: string): string => name.trim().toLowerCase().replace(/\.+$/, '');

function typeName(type: number): string {
  if (type === DnsType.a) return 'A';
  if (type === DnsType.aaaa) return 'AAAA';
  return String(type);
}

function checkAddresses(addresses: readonly string[]): string[] {
  for (const address of addresses) {
    const parsed = parseIp(address);
    if (parsed === undefined || parsed.version !== 4) throw new RangeError(`fake: ${address} is not an IPv4 address`);
  }
  return [...addresses];
}

/** Reads the IP back out of reversed labels: 4 decimal octets, or 32 hex nibbles. */
function ipFromReversedLabels(labels: readonly string[]): string | undefined {
  if (labels.length === 4) return formatParsed(parseIp([...labels].reverse().join('.')));
  if (labels.length !== 32 || labels.some((label) => !/^[0-9a-f]$/.test(label))) return undefined;
  const hex = [...labels].reverse().join('');
  const groups = hex.match(/.{4}/g) ?? [];
  return formatParsed(parseIp(groups.join(':')));
}

function formatParsed(parsed: ReturnType<typeof parseIp>): string | undefined {
  return parsed === undefined ? undefined : formatIp(parsed);
}

function canonicalIp(ip: string): string {
  const parsed = parseIp(ip);
  if (parsed === undefined) throw new RangeError(`fake: ${ip} is not an IP address`);
  return formatIp(parsed);
}

/**
 * Starts a DNS fake on loopback UDP. Names under a zone with listings answer their codes
 * as A records; everything else is NXDOMAIN. Non-A queries answer empty NOERROR (or
 * NOTIMP with `otherTypes: 'notimp'`). Queries with EDNS get an OPT record back.
 *
 * @example
 * const dns = await startFakeDns();
 * dns.list('zen.spamhaus.org', '203.0.113.7', ['127.0.0.2', '127.0.0.4']);
 * const provider = dnsbl({ servers: [dns.server] });
 * dns.faults.inject({ kind: 'lookup-error', code: '127.255.255.254' }, { times: 1 });
 * await dns.close();
 */
export async function startFakeDns(options: DnsFakeOptions = {}): Promise<DnsFake> {
  const host = options.host ?? '127.0.0.1';
  const keys = new Set((options.keys ?? []).map((key) => key.toLowerCase()));
  const listings = new Map<string, Map<string, string[]>>();
  const records = new Map<string, string[]>();
  const log = createArrivalLog<RecordedDnsQuery>();
  const timers = new Set<NodeJS.Timeout>();
  const pending = new Set<(outcome: DnsQueryOutcome) => void>();
  const faults = createFaultSchedule<DnsFault>();
  let closed = false;

  function redact(name: string): string {
    if (keys.size === 0) return name;
    return name
      .split('.')
      .map((label) => (keys.has(label) ? REDACTED : label))
      .join('.');
  }

  /** The addresses a name is listed with, or `undefined` when it does not exist. */
  function lookup(name: string): string[] | undefined {
    const record = records.get(name);
    if (record !== undefined) return record;
    for (const [zone, listed] of listings) {
      if (!name.endsWith(`.${zone}`)) continue;
      const labels = name.slice(0, -(zone.length + 1)).split('.');
      if (labels.length === 5 || labels.length === 33) {
        if (!keys.has(labels[labels.length - 1] as string)) continue;
        labels.pop();
      }
      const ip = ipFromReversedLabels(labels);
      const codes = ip === undefined ? undefined : listed.get(ip);
      if (codes !== undefined) return codes;
    }
    return undefined;
  }

  function answerFor(query: DnsQuery, fault: DnsFault | undefined): DnsAnswerSpec | 'drop' {
    if (query.opcode !== 0 || query.qclass !== 1) return { rcode: DnsRcode.notImp };
    if (fault?.kind === 'drop') return 'drop';
    if (fault?.kind === 'servfail') return { rcode: DnsRcode.servFail };
    if (fault?.kind === 'refused') return { rcode: DnsRcode.refused };
    const isA = query.type === DnsType.a;
    if (isA && fault?.kind === 'lookup-error') return { rcode: DnsRcode.noError, addresses: [fault.code ?? '127.255.255.254'] };
    if (isA && fault?.kind === 'answer') return { rcode: DnsRcode.noError, addresses: fault.addresses };
    const addresses = lookup(query.name);
    if (!isA && options.otherTypes === 'notimp') return { rcode: DnsRcode.notImp };
    if (addresses === undefined) return { rcode: DnsRcode.nxDomain };
    return { rcode: DnsRcode.noError, addresses: isA ? addresses : [] };
  }

  /** Cancels answers still waiting out their latency; their queries count as dropped. */
  function dropDelayed(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const finish of [...pending]) finish('dropped');
  }

  function later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  }

  /** Logs a query on arrival; the returned function settles it. */
  function arrive(name: string, type: string): (outcome: DnsQueryOutcome, addresses?: readonly string[]) => void {
    let settle: (outcome: DnsQueryOutcome) => void = () => undefined;
    const entry: { -readonly [K in keyof RecordedDnsQuery]: RecordedDnsQuery[K] } = {
      name,
      type,
      outcome: 'pending',
      addresses: [],
      finished: new Promise((resolve) => (settle = resolve)),
    };
    const finish = (outcome: DnsQueryOutcome, addresses: readonly string[] = []): void => {
      if (entry.outcome !== 'pending') return;
      entry.outcome = outcome;
      entry.addresses = addresses;
      pending.delete(finish);
      settle(outcome);
    };
    pending.add(finish);
    log.add(entry);
    return finish;
  }

  function handle(socket: Socket, message: Buffer, peer: RemoteInfo): void {
    const parsed = parseDnsQuery(message);
    if ('error' in parsed) {
      const finish = arrive('', '?');
      if (parsed.id === undefined) return finish('dropped');
      socket.send(encodeDnsFailure(parsed.id, DnsRcode.formErr), peer.port, peer.address);
      return finish('FORMERR');
    }
    const finish = arrive(redact(parsed.name), typeName(parsed.type));
    const spec = answerFor(parsed, faults.take());
    const send = (): void => {
      if (closed) return;
      if (spec === 'drop') return finish('dropped');
      socket.send(encodeDnsAnswer(parsed, { ...spec, ...(options.ttl === undefined ? {} : { ttl: options.ttl }) }), peer.port, peer.address);
      finish(RCODE_NAMES[spec.rcode] ?? 'NOERROR', spec.addresses ?? []);
    };
    if (faults.latencyMs > 0) later(faults.latencyMs, send);
    else send();
  }

  const socket = createSocket(host === '::1' ? 'udp6' : 'udp4');
  socket.on('message', (message, peer) => handle(socket, message, peer));
  // A send to a client that went away reports ECONNREFUSED on some platforms: not the fake's problem.
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const { port } = socket.address();

  const queries: DnsQueryLog = {
    get count() {
      return log.items.length;
    },
    get queries() {
      return log.items;
    },
    waitFor: (count, timeoutMs = 5000) => log.waitFor(count, timeoutMs, 'fake dns: query'),
    clear: () => log.clear(),
  };

  return {
    host,
    port,
    server: host === '::1' ? `[::1]:${port}` : `127.0.0.1:${port}`,
    queries,
    faults,
    list(zone, ip, codes = '127.0.0.2') {
      const addresses = checkAddresses(typeof codes === 'string' ? [codes] : codes);
      const name = normalName(zone);
      let listed = listings.get(name);
      if (listed === undefined) {
        listed = new Map();
        listings.set(name, listed);
      }
      listed.set(canonicalIp(ip), addresses);
    },
    unlist(zone, ip) {
      listings.get(normalName(zone))?.delete(canonicalIp(ip));
    },
    setRecord(name, addresses) {
      records.set(normalName(name), checkAddresses(addresses));
    },
    reset() {
      listings.clear();
      records.clear();
      faults.clear();
      dropDelayed();
      log.clear();
    },
    async close() {
      closed = true;
      dropDelayed();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
