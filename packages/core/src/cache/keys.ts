/**
 * Cache keys: a provider's name and version plus an HMAC of one normalised subject
 * facet, so no tier ever holds a raw IP or e-mail address, and a key cannot be turned
 * back into the subject without the secret.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { SubjectFacet } from '../contracts.js';
import { ConfigurationError } from '../errors.js';
import { normalizeIp } from '../subject/ip.js';
import { isSecret } from '../config/secret.js';
import type { Secret } from '../config/secret.js';

/** Shortest secret accepted, in bytes: below this an HMAC can be brute-forced over the IPv4 space offline. */
export const MIN_SECRET_BYTES = 16;

/** Provider names, versions and namespaces are used in Redis SCAN patterns, so glob characters are kept out. */
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const NAMESPACE_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** A prepared HMAC key; holding it instead of the secret keeps the secret out of every object we expose. */
export type KeySecret = KeyObject;

/**
 * Turns the configured secret into a key object once, and rejects short ones.
 *
 * @example
 * const secret = prepareSecret(process.env.FS_CACHE_SECRET ?? '');
 */
export function prepareSecret(secret: string | Uint8Array | Secret): KeySecret {
  const value = isSecret(secret) ? secret.reveal() : secret;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigurationError([`cache.secret: expected at least ${MIN_SECRET_BYTES} bytes, got ${bytes.length}`]);
  }
  return createSecretKey(bytes);
}

/**
 * The canonical text of a facet value: the same subject must hash the same way no
 * matter how the client spelled it.
 */
export function normaliseFacet(facet: SubjectFacet, value: string): string {
  switch (facet) {
    case 'ip':
      return normalizeIp(value) ?? value.trim().toLowerCase();
    case 'email':
      return value.trim().toLowerCase();
    default:
      return value.trim();
  }
}

/**
 * HMAC-SHA256 of one normalised subject facet, base64url. The facet name is part of
 * the MAC so a username that looks like an e-mail never shares a digest with it.
 *
 * @example
 * const digest = subjectDigest(prepareSecret('a long random cache secret'), 'ip', '203.0.113.7');
 */
export function subjectDigest(secret: KeySecret, facet: SubjectFacet, value: string): string {
  return createHmac('sha256', secret).update(facet).update('\0').update(normaliseFacet(facet, value)).digest('base64url');
}

/** Identifies what a cached answer came from: who answered, in which version of their answer format. */
export interface KeyScope {
  readonly provider: string;
  readonly version: string;
}

/**
 * The full cache key `<provider>:<version>:<digest>`; the same string in every tier. (A
 * provider whose answer depends on several facets gets `<digest>.<digest>…`, see
 * `ProviderCache.keyFor`.)
 *
 * @example
 * const key = cacheKey(prepareSecret('a long random cache secret'), { provider: 'abuseipdb', version: '2' }, 'ip', '203.0.113.7');
 * // 'abuseipdb:2:Xq3…' — 43 base64url characters after the last colon
 */
export function cacheKey(secret: KeySecret, scope: KeyScope, facet: SubjectFacet, value: string): string {
  return `${scope.provider}:${scope.version}:${subjectDigest(secret, facet, value)}`;
}

/** Separates the digests of a key that depends on several facets (base64url never contains a dot). */
export const DIGEST_SEPARATOR = '.';

/** The digests in a key's last segment: one per facet the cached answer depends on. */
export function digestsOfKey(key: string): string[] {
  return key.slice(key.lastIndexOf(':') + 1).split(DIGEST_SEPARATOR);
}

/** Whether a key holds an answer about the subject one of `digests` stands for. */
export function keyMentions(key: string, digests: ReadonlySet<string>): boolean {
  return digestsOfKey(key).some((digest) => digests.has(digest));
}

/** Collects the configuration issues of a provider name or version. */
export function checkName(path: string, value: string, issues: string[]): void {
  if (!NAME_PATTERN.test(value)) issues.push(`${path}: expected 1-64 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(value)}`);
}

/** Collects the configuration issues of a namespace. */
export function checkNamespace(path: string, value: string, issues: string[]): void {
  if (!NAMESPACE_PATTERN.test(value)) {
    issues.push(`${path}: expected 1-64 characters of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(value)}`);
  }
}
