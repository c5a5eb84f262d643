/**
 * A loopback IPQualityScore: `GET /api/json/ip/<key>/<ip>` in the service's JSON format,
 * with its `success: false` answers (bad key, no credits, bad address), a credit balance
 * and fault injection. The key sits in the path, so the recorded requests show the path
 * with the key segment replaced by `[redacted]`.
 */
import { normalizeIp } from '@formsecurity/core';
import { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
import type { CallLog, FakeAnswer, FakeHttpServer, FakeRequest, HttpFault, RecordedRequest } from './fake-http-server.js';

/** What the fake answers for one address, in the service's field names; unset flags are false. */
export interface IpQualityScoreFakeRecord {
  /** 0..100, default 0. */
  readonly fraud_score?: number;
  readonly proxy?: boolean;
  readonly vpn?: boolean;
  readonly tor?: boolean;
  readonly active_vpn?: boolean;
  readonly active_tor?: boolean;
  readonly recent_abuse?: boolean;
  readonly bot_status?: boolean;
  readonly is_crawler?: boolean;
  readonly mobile?: boolean;
  /** Default `Residential`. */
  readonly connection_type?: string;
  /** Default `none`. */
  readonly abuse_velocity?: string;
  /** Default `US`. */
  readonly country_code?: string;
  /** Default `Example ISP`. */
  readonly ISP?: string;
  /** Default 64496. */
  readonly ASN?: number;
  /** Default `Example Org`. */
  readonly organization?: string;
}

/** A `{ success: false, message }` answer (HTTP 200) with the given message. */
export interface IpQualityScoreApiErrorFault {
  readonly kind: 'api-error';
  readonly message: string;
}

/** Every fault the IPQualityScore fake can inject. */
export type IpQualityScoreFault = HttpFault | IpQualityScoreApiErrorFault;

/** A running IPQualityScore fake. */
export interface IpQualityScoreFake extends FakeHttpServer<IpQualityScoreFault> {
  /** The key the fake accepts. */
  readonly key: string;
  /** Gives an address an answer; IPs match in any spelling. */
  score(ip: string, record: IpQualityScoreFakeRecord): void;
  unscore(ip: string): void;
  /** Sets the credit balance; at 0 lookups answer `success: false` for want of credits. */
  setCredits(credits: number): void;
  /** Forgets answers, faults and recorded calls, and restores the balance. */
  reset(): void;
}

/** Options of {@link startFakeIpQualityScore}. */
export interface IpQualityScoreFakeOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default `fake-ipqs-key`. */
  readonly key?: string;
  /** Default 5,000 (the free tier's month); each answered lookup costs one. */
  readonly credits?: number;
}

const PATH = /^\/api\/json\/ip\/([^/]*)\/([^/]+)$/;
const REDACTED_PATH = /^(\/api\/json\/ip\/)[^/]*/;

const failure = (message: string): FakeAnswer => jsonAnswer({ success: false, message, request_id: 'fake-request' });

/** The call log of the base server, with the key segment of every path redacted. */
function redactedCalls(calls: CallLog): CallLog {
  const views = new WeakMap<RecordedRequest, RecordedRequest>();
  const view = (request: RecordedRequest): RecordedRequest => {
    let redacted = views.get(request);
    if (redacted === undefined) {
      redacted = { ...request, path: request.path.replace(REDACTED_PATH, '$1[redacted]') };
      views.set(request, redacted);
    }
    return redacted;
  };
  return {
    get count() {
      return calls.count;
    },
    get requests() {
      return calls.requests.map(view);
    },
    waitFor: async (count, timeoutMs) => view(await calls.waitFor(count, timeoutMs)),
    clear: () => calls.clear(),
  };
}

/**
 * Starts an IPQualityScore fake on 127.0.0.1. A wrong key answers `success: false` with
 * "Invalid or unauthorized key…", an empty balance "You have insufficient credits…", a
 * non-address a message quoting it; addresses with no answer set score 0 with every flag
 * false. Answers carry `host` (a reverse-DNS name built from the address), as the real
 * service does, so tests can check that it is not kept.
 *
 * @example
 * const fake = await startFakeIpQualityScore({ key: 'test-key' });
 * fake.score('203.0.113.7', { fraud_score: 88, vpn: true, recent_abuse: true });
 * const provider = ipQualityScore({ key: 'test-key', baseUrl: fake.url });
 * fake.calls.requests[0]?.path; // '/api/json/ip/[redacted]/203.0.113.7'
 * await fake.close();
 */
export async function startFakeIpQualityScore(options: IpQualityScoreFakeOptions = {}): Promise<IpQualityScoreFake> {
  const key = options.key ?? 'fake-ipqs-key';
  const initialCredits = options.credits ?? 5000;
  const records = new Map<string, IpQualityScoreFakeRecord>();
  let credits = initialCredits;

  function handle(request: FakeRequest, fault: IpQualityScoreApiErrorFault | undefined): FakeAnswer {
    const match = PATH.exec(request.url.pathname);
    if (request.method !== 'GET' || match === null) return jsonAnswer({ success: false, message: 'Not found.' }, 404);
    if (decodeURIComponent(match[1] as string) !== key) return failure('Invalid or unauthorized key. Please check the API key and try again.');
    if (fault?.kind === 'api-error') return failure(fault.message);
    const raw = decodeURIComponent(match[2] as string);
    const ip = normalizeIp(raw);
    if (ip === undefined) return failure(`The IP address "${raw}" is invalid. Please provide a valid IPv4 or IPv6 address.`);
    if (credits <= 0) {
      return failure('You have insufficient credits to make this query. Please contact IPQualityScore support if this error persists.');
    }
    credits -= 1;
    const record = records.get(ip) ?? {};
    return jsonAnswer({
      success: true,
      message: 'Success',
      fraud_score: record.fraud_score ?? 0,
      country_code: record.country_code ?? 'US',
      region: 'Virginia',
      city: 'Ashburn',
      ISP: record.ISP ?? 'Example ISP',
      ASN: record.ASN ?? 64496,
      organization: record.organization ?? 'Example Org',
      is_crawler: record.is_crawler ?? false,
      timezone: 'America/New_York',
      mobile: record.mobile ?? false,
      host: `host-${ip.replace(/[.:]/g, '-')}.example.net`,
      proxy: record.proxy ?? false,
      vpn: record.vpn ?? false,
      tor: record.tor ?? false,
      active_vpn: record.active_vpn ?? false,
      active_tor: record.active_tor ?? false,
      recent_abuse: record.recent_abuse ?? false,
      bot_status: record.bot_status ?? false,
      connection_type: record.connection_type ?? 'Residential',
      abuse_velocity: record.abuse_velocity ?? 'none',
      latitude: 39.03,
      longitude: -77.5,
      request_id: 'fake-request',
    });
  }

  const server = await startFakeHttpServer<IpQualityScoreApiErrorFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    calls: redactedCalls(server.calls),
    key,
    score(ip, record) {
      const fraud = record.fraud_score;
      if (fraud !== undefined && !(Number.isFinite(fraud) && fraud >= 0 && fraud <= 100)) {
        throw new RangeError('fake: fraud_score must be from 0 to 100');
      }
      records.set(normalizeIp(ip) ?? ip.trim(), record);
    },
    unscore(ip) {
      records.delete(normalizeIp(ip) ?? ip.trim());
    },
    setCredits(next) {
      if (!(Number.isInteger(next) && next >= 0)) throw new RangeError('fake: credits must be a whole number of at least 0');
      credits = next;
    },
    reset() {
      records.clear();
      credits = initialCredits;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
