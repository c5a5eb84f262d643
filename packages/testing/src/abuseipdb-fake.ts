/**
 * A loopback AbuseIPDB v2: `GET /api/v2/check` and `POST /api/v2/report` in the service's
 * JSON format, with its `Key` header check, its `{ errors: [...] }` bodies, its daily limit
 * and `X-RateLimit-*` headers, and fault injection.
 */
import { normalizeIp, parseIp } from '@formsecurity/core';
import { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';
import { addressClass } from './special-ranges.js';

/** What the fake answers for one address; unset fields take the defaults shown. */
export interface AbuseIpdbListing {
  /** 0..100, default 50. */
  readonly abuseConfidenceScore?: number;
  /** Default 1. */
  readonly totalReports?: number;
  /** Default 1. */
  readonly numDistinctUsers?: number;
  /** Default `2024-01-01T00:00:00+00:00`. */
  readonly lastReportedAt?: string;
  /** Default false. */
  readonly isWhitelisted?: boolean;
  /** Default false. */
  readonly isTor?: boolean;
  /** Default `Fixed Line ISP`. */
  readonly usageType?: string;
  /** Default `US`. */
  readonly countryCode?: string;
  /** Default `Example ISP`. */
  readonly isp?: string;
  /** Default `example.net`. */
  readonly domain?: string;
  /** Default none. */
  readonly hostnames?: readonly string[];
}

/** An answer in AbuseIPDB's error format: `{ errors: [{ detail, status }] }` with that status. */
export interface AbuseIpdbApiErrorFault {
  readonly kind: 'api-error';
  readonly status: number;
  readonly detail?: string;
}

/** Every fault the AbuseIPDB fake can inject. */
export type AbuseIpdbFault = HttpFault | AbuseIpdbApiErrorFault;

/** A report the fake accepted. */
export interface AbuseIpdbReport {
  readonly ip: string;
  readonly categories: readonly number[];
  readonly comment: string | undefined;
  /** The fake's clock when it arrived. */
  readonly atMs: number;
}

/** A running AbuseIPDB fake. */
export interface AbuseIpdbFake extends FakeHttpServer<AbuseIpdbFault> {
  /** The key the fake accepts in the `Key` header. */
  readonly key: string;
  /** Gives an address reports; IPs match in any spelling. */
  list(ip: string, listing?: AbuseIpdbListing): void;
  unlist(ip: string): void;
  /** Reports accepted so far, oldest first. */
  readonly reports: readonly AbuseIpdbReport[];
  /** Sets how many checks are left today; at 0 the next check is a 429 until the (UTC) day ends. */
  setRemaining(remaining: number): void;
  /** Forgets listings, reports, faults and recorded calls, and refills the daily limit. */
  reset(): void;
}

/** Options of {@link startFakeAbuseIpdb}. */
export interface AbuseIpdbFakeOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** The accepted key (default `fake-abuseipdb-key`). */
  readonly key?: string;
  /** Checks per UTC day (default 1000, the free tier). */
  readonly dailyLimit?: number;
  /** The fake's clock (default `Date.now`): drives the daily reset and the 15-minute report rule. */
  readonly now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const REPORT_INTERVAL_MS = 15 * 60 * 1000;
const MAX_CATEGORY = 23;

function errors(status: number, detail: string, parameter?: string, headers: Record<string, string> = {}): FakeAnswer {
  return jsonAnswer(
    { errors: [{ detail, status, ...(parameter === undefined ? {} : { source: { parameter } }) }] },
    status,
    headers,
  );
}

function validateListing(listing: AbuseIpdbListing): void {
  const score = listing.abuseConfidenceScore;
  if (score !== undefined && !(Number.isInteger(score) && score >= 0 && score <= 100)) {
    throw new RangeError('fake: abuseConfidenceScore must be a whole number from 0 to 100');
  }
  for (const count of [listing.totalReports, listing.numDistinctUsers]) {
    if (count !== undefined && !(Number.isInteger(count) && count >= 0)) {
      throw new RangeError('fake: report counts must be whole numbers of at least 0');
    }
  }
}

/**
 * Starts an AbuseIPDB fake on 127.0.0.1. Unlisted addresses answer with score 0 and no
 * reports; requests without `Accept: application/json` get an HTML page, as the real API
 * gives; a wrong or missing `Key` gets 401 in the service's error format; an invalid
 * `ipAddress` or `maxAgeInDays` 422. Every check answer carries `X-RateLimit-Limit`,
 * `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds); past the daily limit, 429
 * with `Retry-After`. A second report of one address within 15 minutes is a 429 that quotes
 * the address, as the service's does.
 *
 * @example
 * const fake = await startFakeAbuseIpdb({ key: 'test-key' });
 * fake.list('203.0.113.7', { abuseConfidenceScore: 87, totalReports: 12, numDistinctUsers: 5 });
 * const provider = abuseIpdb({ key: 'test-key', baseUrl: fake.url });
 * // ... fake.setRemaining(0) to see the daily limit; fake.reports after provider.report(...)
 * await fake.close();
 */
export async function startFakeAbuseIpdb(options: AbuseIpdbFakeOptions = {}): Promise<AbuseIpdbFake> {
  const key = options.key ?? 'fake-abuseipdb-key';
  const dailyLimit = options.dailyLimit ?? 1000;
  const now = options.now ?? Date.now;
  const listings = new Map<string, AbuseIpdbListing>();
  const reports: AbuseIpdbReport[] = [];
  let remaining = dailyLimit;

  const resetAtSeconds = (): number => Math.floor((Math.floor(now() / DAY_MS) + 1) * DAY_MS / 1000);

  function limitHeaders(left: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(dailyLimit),
      'x-ratelimit-remaining': String(left),
      'x-ratelimit-reset': String(resetAtSeconds()),
    };
  }

  function checkAnswer(url: URL): FakeAnswer {
    if (remaining <= 0) {
      const retryAfter = Math.max(1, resetAtSeconds() - Math.floor(now() / 1000));
      return errors(429, `Daily rate limit of ${dailyLimit} requests exceeded for this endpoint. See headers for additional details.`, undefined, {
        ...limitHeaders(0),
        'retry-after': String(retryAfter),
      });
    }
    const raw = url.searchParams.get('ipAddress') ?? '';
    const parsed = parseIp(raw);
    if (parsed === undefined) {
      return errors(422, 'The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).', 'ipAddress');
    }
    const maxAge = url.searchParams.get('maxAgeInDays');
    if (maxAge !== null && !/^\d{1,3}$/.test(maxAge)) {
      return errors(422, 'The max age in days must be an integer.', 'maxAgeInDays');
    }
    if (maxAge !== null && (Number(maxAge) < 1 || Number(maxAge) > 365)) {
      return errors(422, 'The max age in days must be between 1 and 365.', 'maxAgeInDays');
    }
    remaining -= 1;
    const ip = normalizeIp(raw) as string;
    const listing = listings.get(ip);
    const reported = listing !== undefined;
    const data = {
      ipAddress: ip,
      isPublic: addressClass(ip) === 'public',
      ipVersion: parsed.version,
      isWhitelisted: listing?.isWhitelisted ?? false,
      abuseConfidenceScore: listing?.abuseConfidenceScore ?? (reported ? 50 : 0),
      countryCode: listing?.countryCode ?? 'US',
      usageType: listing?.usageType ?? 'Fixed Line ISP',
      isp: listing?.isp ?? 'Example ISP',
      domain: listing?.domain ?? 'example.net',
      hostnames: [...(listing?.hostnames ?? [])],
      isTor: listing?.isTor ?? false,
      totalReports: listing?.totalReports ?? (reported ? 1 : 0),
      numDistinctUsers: listing?.numDistinctUsers ?? (reported ? 1 : 0),
      lastReportedAt: reported ? (listing.lastReportedAt ?? '2024-01-01T00:00:00+00:00') : null,
    };
    return jsonAnswer({ data }, 200, limitHeaders(remaining));
  }

  function reportAnswer(body: string): FakeAnswer {
    const form = new URLSearchParams(body);
    const ip = normalizeIp(form.get('ip') ?? '');
    if (ip === undefined) return errors(422, 'The ip address must be a valid IPv4 or IPv6 address.', 'ip');
    const categories = (form.get('categories') ?? '').split(',').map((part) => Number(part.trim()));
    if (categories.length === 0 || categories.some((id) => !(Number.isInteger(id) && id >= 1 && id <= MAX_CATEGORY))) {
      return errors(422, 'The categories field must be a comma-separated list of valid category ids.', 'categories');
    }
    const comment = form.get('comment') ?? undefined;
    if (comment !== undefined && comment.length > 1024) {
      return errors(422, 'The comment may not be greater than 1024 characters.', 'comment');
    }
    const atMs = now();
    const last = reports.findLast((report) => report.ip === ip);
    if (last !== undefined && atMs - last.atMs < REPORT_INTERVAL_MS) {
      const retryAfter = Math.ceil((last.atMs + REPORT_INTERVAL_MS - atMs) / 1000);
      return errors(429, `You can only report the same IP address (\`${ip}\`) once in 15 minutes.`, 'ip', {
        'retry-after': String(retryAfter),
      });
    }
    reports.push({ ip, categories, comment, atMs });
    return jsonAnswer({ data: { ipAddress: ip, abuseConfidenceScore: listings.get(ip)?.abuseConfidenceScore ?? 0 } });
  }

  function handle(request: FakeRequest, fault: AbuseIpdbApiErrorFault | undefined): FakeAnswer {
    const route = `${request.method} ${request.url.pathname}`;
    if (route !== 'GET /api/v2/check' && route !== 'POST /api/v2/report') {
      return errors(404, 'The requested endpoint does not exist.');
    }
    if (!(request.headers.accept ?? '').includes('application/json')) {
      return { status: 200, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: '<!DOCTYPE html><html><body>AbuseIPDB</body></html>' };
    }
    if (request.headers.key !== key) {
      return errors(401, 'Authentication failed. Your API key is either missing, incorrect, or revoked.');
    }
    if (fault?.kind === 'api-error') return errors(fault.status, fault.detail ?? 'injected failure');
    return route === 'GET /api/v2/check' ? checkAnswer(request.url) : reportAnswer(request.body);
  }

  const server = await startFakeHttpServer<AbuseIpdbApiErrorFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    key,
    reports,
    list(ip, listing = {}) {
      validateListing(listing);
      listings.set(normalizeIp(ip) ?? ip.trim(), listing);
    },
    unlist(ip) {
      listings.delete(normalizeIp(ip) ?? ip.trim());
    },
    setRemaining(left) {
      if (!(Number.isInteger(left) && left >= 0)) throw new RangeError('fake: remaining must be a whole number of at least 0');
      remaining = left;
    },
    reset() {
      listings.clear();
      reports.length = 0;
      remaining = dailyLimit;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
