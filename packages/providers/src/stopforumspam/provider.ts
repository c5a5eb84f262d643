/**
 * The StopForumSpam provider: IP, e-mail and username reputation from a community
 * database of reported forum and form spammers. No key; about 20,000 queries a day.
 */
import { createHash } from 'node:crypto';
import { ConfigurationError } from '@formsecurity/core';
import type { AsyncProvider, ProviderDefaults, ProviderResult, Subject } from '@formsecurity/core';
import { declareEndpoints, endpointUrl, resolveEndpoint } from '../endpoint.js';
import { DEFAULT_MAX_BODY_BYTES, httpJson } from '../http.js';
import { isEmptyLimits } from '../upstream-limits.js';
import { parseStopForumSpamAnswer, scoreStopForumSpamAnswer } from './answer.js';
import type { StopForumSpamFacet } from './answer.js';

/** Options of {@link stopForumSpam}; every one has a default. */
export interface StopForumSpamOptions {
  /** Default `https://api.stopforumspam.org`. Must be https unless loopback or `allowInsecureHttp`. */
  readonly baseUrl?: string;
  /** Accept a non-loopback `http://` base URL (default false). */
  readonly allowInsecureHttp?: boolean;
  /** Which subject facets to send (default all three). */
  readonly facets?: readonly StopForumSpamFacet[];
  /** How much a full score counts in the verdict (default {@link STOP_FORUM_SPAM_DEFAULTS}.weight). */
  readonly weight?: number;
  /** How long an answer stays fresh in the cache (default 24 hours). */
  readonly ttlMs?: number;
  /** Largest body accepted (default 64 KiB; a single-value answer is a few hundred bytes). */
  readonly maxBodyBytes?: number;
}

/**
 * Defaults: `weight` 0.8 because the list is community-reported — shared and NAT addresses
 * get listed too — so it should not reach a full block on its own; `ttlMs` 24 hours because
 * listings change over days and the free tier allows about 20,000 queries a day.
 */
/** The service asks for no more than about 20,000 queries a day. */
export const STOP_FORUM_SPAM_LIMITS = { daily: 20_000 } as const;

export const STOP_FORUM_SPAM_DEFAULTS: Required<Pick<ProviderDefaults, 'weight' | 'ttlMs'>> = { weight: 0.8, ttlMs: 24 * 60 * 60 * 1000 };

const DEFAULT_BASE_URL = 'https://api.stopforumspam.org';
const ALL_FACETS: readonly StopForumSpamFacet[] = ['ip', 'email', 'username'];
const OPTION = 'stopForumSpam';

/**
 * The MD5 StopForumSpam expects in `emailhash`: of the trimmed, lower-cased address.
 *
 * @example
 * stopForumSpamEmailHash(' Someone@Example.org '); // md5 of 'someone@example.org'
 */
export function stopForumSpamEmailHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

function validate(options: StopForumSpamOptions): void {
  const issues: string[] = [];
  const { weight, ttlMs, facets, maxBodyBytes } = options;
  if (weight !== undefined && !(Number.isFinite(weight) && weight >= 0 && weight <= 1)) {
    issues.push(`${OPTION}.weight: expected a number from 0 to 1`);
  }
  if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
    issues.push(`${OPTION}.ttlMs: expected a positive number of milliseconds`);
  }
  if (facets !== undefined && (facets.length === 0 || facets.some((facet) => !ALL_FACETS.includes(facet)))) {
    issues.push(`${OPTION}.facets: expected a non-empty list of 'ip', 'email', 'username'`);
  }
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    issues.push(`${OPTION}.maxBodyBytes: expected a positive integer`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/** The query for a subject, and which facets it asks about. The e-mail travels only as its hash. */
function buildQuery(subject: Subject, facets: readonly StopForumSpamFacet[]): { search: string; asked: StopForumSpamFacet[] } {
  const params = new URLSearchParams();
  const asked: StopForumSpamFacet[] = [];
  if (facets.includes('ip') && subject.ip) {
    params.set('ip', subject.ip);
    asked.push('ip');
  }
  if (facets.includes('email') && subject.email) {
    params.set('emailhash', stopForumSpamEmailHash(subject.email));
    asked.push('email');
  }
  if (facets.includes('username') && subject.username) {
    params.set('username', subject.username);
    asked.push('username');
  }
  // The documented form is a bare `&json` flag, which URLSearchParams would write as `json=`.
  return { search: `?${params.toString()}&json`, asked };
}

/**
 * Creates the StopForumSpam provider (name `stopforumspam`, facets ip / email / username).
 *
 * Sends `GET <baseUrl>/api?ip=..&emailhash=..&username=..&json`; the e-mail address only as
 * the MD5 of its trimmed lower-cased form. Score: the highest `confidence / 100` over the
 * facets that appear; 0 when none does. A Tor exit node is a reason and `data.ip.torexit`,
 * not a score. `data` holds per facet `appears`, `frequency`, `confidence`, `lastseen` —
 * never the queried values themselves.
 *
 * @example
 * const engine = createFormSecurity({ providers: [stopForumSpam()] });
 * // against a loopback fake in tests:
 * const provider = stopForumSpam({ baseUrl: fake.url });
 * const result = await provider.check({ ip: '203.0.113.7' }, { signal: AbortSignal.timeout(100) });
 */
export function stopForumSpam(options: StopForumSpamOptions = {}): AsyncProvider {
  validate(options);
  const base = resolveEndpoint(options.baseUrl ?? DEFAULT_BASE_URL, {
    option: `${OPTION}.baseUrl`,
    ...(options.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: options.allowInsecureHttp }),
  });
  const apiUrl = endpointUrl(base, '/api');
  const facets = options.facets ?? ALL_FACETS;
  const name = 'stopforumspam';

  return declareEndpoints({
    name,
    version: '1',
    facets,
    defaults: {
      weight: options.weight ?? STOP_FORUM_SPAM_DEFAULTS.weight,
      ttlMs: options.ttlMs ?? STOP_FORUM_SPAM_DEFAULTS.ttlMs,
      limits: STOP_FORUM_SPAM_LIMITS,
    },
    async check(subject, { signal }): Promise<ProviderResult> {
      const { search, asked } = buildQuery(subject, facets);
      if (asked.length === 0) return { score: 0, reasons: [] };
      const url = new URL(apiUrl.href);
      url.search = search;
      const { body, upstream } = await httpJson({
        provider: name,
        url,
        signal,
        headers: { accept: 'application/json' },
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      });
      const answer = parseStopForumSpamAnswer(body, asked, name);
      return scoreStopForumSpamAnswer(answer, isEmptyLimits(upstream) ? undefined : upstream);
    },
  }, [base]);
}
