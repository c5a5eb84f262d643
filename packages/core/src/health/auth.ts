/**
 * The bearer token that guards the health endpoint and the status page, compared in
 * constant time: both sides are hashed first, so neither the content nor the length of
 * the configured token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '../errors.js';

/** What the endpoints read of a request: the path with its query, and the headers. */
export interface StatusRequest {
  /** Path and query as received, e.g. `/formsecurity/status?token=…`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export const MIN_TOKEN_LENGTH = 16;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The token a request presents: `Authorization: Bearer …` first, else `?token=…`. */
export function presentedToken(request: StatusRequest): string | undefined {
  const header = request.headers['authorization'];
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value === 'string') {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
    if (match !== null) return match[1];
  }
  const query = request.url.indexOf('?');
  if (query < 0) return undefined;
  return new URLSearchParams(request.url.slice(query + 1)).get('token') ?? undefined;
}

/**
 * Builds the check for one configured token; throws ConfigurationError at set-up for
 * a missing or short one (the message never repeats it).
 *
 * @example
 * const authorized = tokenCheck(process.env.FORMSECURITY_STATUS_TOKEN!);
 * authorized({ url: req.url, headers: req.headers }); // true or false
 */
export function tokenCheck(token: string, where = 'status.token'): (request: StatusRequest) => boolean {
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigurationError([`${where}: expected a secret of at least ${MIN_TOKEN_LENGTH} characters`]);
  }
  const expected = digest(token);
  return (request) => {
    const presented = presentedToken(request);
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}
