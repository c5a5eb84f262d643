/**
 * A loopback StopForumSpam: answers `GET /api?ip=..&email=..|emailhash=..&username=..&json`
 * in the service's JSON format from listings a test sets, with fault injection.
 */
import { createHash } from 'node:crypto';
import { normalizeIp } from '@formsecurity/core';
import { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';

/** The facets StopForumSpam looks up. */
export type StopForumSpamFakeFacet = 'ip' | 'email' | 'username';

/** How the fake describes one listed value; unset fields take the defaults shown. */
export interface StopForumSpamListing {
  /** Default true; false with `torexit` describes an unlisted Tor exit node. */
  readonly appears?: boolean;
  /** Default 1. */
  readonly frequency?: number;
  /** 0..100, default 50. */
  readonly confidence?: number;
  /** Default `2024-01-01 00:00:00`. */
  readonly lastseen?: string;
  /** Only meaningful for IPs. Default false. */
  readonly torexit?: boolean;
}

/** A `success: 0` answer with the given error text (default `invalid request`). */
export interface StopForumSpamApiErrorFault {
  readonly kind: 'api-error';
  readonly error?: string;
}

/** Every fault the StopForumSpam fake can inject. */
export type StopForumSpamFault = HttpFault | StopForumSpamApiErrorFault;

/** A running StopForumSpam fake. */
export interface StopForumSpamFake extends FakeHttpServer<StopForumSpamFault> {
  /** Lists a value; an e-mail is matched whether asked raw or as `emailhash`. */
  list(facet: StopForumSpamFakeFacet, value: string, listing?: StopForumSpamListing): void;
  unlist(facet: StopForumSpamFakeFacet, value: string): void;
  /** Forgets every listing, fault and recorded call. */
  reset(): void;
}

/** Options of {@link startFakeStopForumSpam}. */
export interface StopForumSpamFakeOptions {
  /** Default 0: a free port. */
  readonly port?: number;
}

const emailHash = (email: string): string => createHash('md5').update(email.trim().toLowerCase()).digest('hex');

function keyOf(facet: StopForumSpamFakeFacet, value: string): string {
  if (facet === 'ip') return normalizeIp(value) ?? value.trim();
  if (facet === 'email') return emailHash(value);
  return value.trim().toLowerCase();
}

function validateListing(listing: StopForumSpamListing): void {
  const { frequency, confidence } = listing;
  if (frequency !== undefined && !(Number.isFinite(frequency) && frequency >= 0)) {
    throw new RangeError('fake: frequency must be a non-negative number');
  }
  if (confidence !== undefined && !(Number.isFinite(confidence) && confidence >= 0 && confidence <= 100)) {
    throw new RangeError('fake: confidence must be from 0 to 100');
  }
}

/** The service's record for one value: listed values in full, others as `appears: 0`. */
function recordOf(listing: StopForumSpamListing | undefined): Record<string, unknown> {
  if (listing === undefined) return { appears: 0, frequency: 0 };
  const appears = listing.appears ?? true;
  return {
    appears: appears ? 1 : 0,
    frequency: appears ? (listing.frequency ?? 1) : 0,
    ...(appears
      ? { lastseen: listing.lastseen ?? '2024-01-01 00:00:00', confidence: listing.confidence ?? 50 }
      : {}),
    ...(listing.torexit ? { torexit: 1 } : {}),
  };
}

/**
 * Starts a StopForumSpam fake on 127.0.0.1. Asked for `emailhash`, it answers under
 * `emailhash`; asked for `email`, under `email`. Requests without `json` get an XML-ish
 * refusal, other paths 404, as a reminder that the real service speaks XML by default.
 *
 * @example
 * const fake = await startFakeStopForumSpam();
 * fake.list('ip', '203.0.113.7', { confidence: 87, frequency: 12 });
 * fake.faults.inject({ kind: 'rate-limit', retryAfter: 30 }, { times: 1 });
 * const provider = stopForumSpam({ baseUrl: fake.url });
 * // ... run checks, then inspect fake.calls.requests[0].query
 * await fake.close();
 */
export async function startFakeStopForumSpam(options: StopForumSpamFakeOptions = {}): Promise<StopForumSpamFake> {
  const listings = new Map<string, StopForumSpamListing>();
  const listingKey = (facet: StopForumSpamFakeFacet, key: string): string => `${facet}:${key}`;

  function lookup(facet: StopForumSpamFakeFacet, key: string): Record<string, unknown> {
    return recordOf(listings.get(listingKey(facet, key)));
  }

  function handle(request: FakeRequest, fault: StopForumSpamApiErrorFault | undefined): FakeAnswer {
    if (request.url.pathname !== '/api') return jsonAnswer({ error: 'not found' }, 404);
    if (request.method !== 'GET') return jsonAnswer({ error: 'method not allowed' }, 405);
    const params = request.url.searchParams;
    if (!params.has('json')) {
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: '<response success="false"><error>this fake answers JSON only</error></response>',
      };
    }
    if (fault?.kind === 'api-error') return jsonAnswer({ success: 0, error: fault.error ?? 'invalid request' });
    const body: Record<string, unknown> = { success: 1 };
    const ip = params.get('ip');
    if (ip !== null) body['ip'] = lookup('ip', normalizeIp(ip) ?? ip);
    const hash = params.get('emailhash');
    if (hash !== null) body['emailhash'] = lookup('email', hash.toLowerCase());
    const email = params.get('email');
    if (email !== null) body['email'] = lookup('email', emailHash(email));
    const username = params.get('username');
    if (username !== null) body['username'] = lookup('username', username.trim().toLowerCase());
    if (Object.keys(body).length === 1) return jsonAnswer({ success: 0, error: 'no query fields given' });
    return jsonAnswer(body);
  }

  const server = await startFakeHttpServer<StopForumSpamApiErrorFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    list(facet, value, listing = {}) {
      validateListing(listing);
      listings.set(listingKey(facet, keyOf(facet, value)), listing);
    },
    unlist(facet, value) {
      listings.delete(listingKey(facet, keyOf(facet, value)));
    },
    reset() {
      listings.clear();
      server.faults.clear();
      server.calls.clear();
    },
  };
}
