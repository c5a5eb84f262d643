/**
 * Cache keys: a provider's name and version plus an HMAC of one normalised subject
 * facet, so no tier ever holds a raw IP or e-mail address, and a key cannot be turned
 * back into the subject without the secret.
 */
import { createHash, createHmac, hash } from 'node:crypto';
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

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
const SCRATCH_BYTES = 4096;
// crypto.hash() (Node 20.12+) is a one-shot digest without createHmac's per-call object set-up.
const oneShot: typeof hash | undefined = typeof hash === 'function' ? hash : undefined;

/**
 * A prepared HMAC-SHA256 key (RFC 2104), computed as two one-shot SHA-256 digests over
 * pre-padded key blocks: the same MAC as `createHmac`, at about a third of its cost
 * (a warm lookup needs none: see digest-index.ts). Holding it instead of the secret
 * keeps the secret out of every object we expose.
 */
export class KeySecret {
  readonly #key: Buffer;
  readonly #innerPad: Buffer;
  readonly #outer: Buffer;
  readonly #scratch = Buffer.allocUnsafe(BLOCK_BYTES + SCRATCH_BYTES);

  constructor(secret: Uint8Array) {
    // RFC 2104: a key longer than the block is replaced by its digest.
    const key = secret.length > BLOCK_BYTES ? createHash('sha256').update(secret).digest() : Buffer.from(secret);
    this.#key = key;
    this.#innerPad = Buffer.alloc(BLOCK_BYTES, 0x36);
    this.#outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES, 0);
    this.#outer.fill(0x5c, 0, BLOCK_BYTES);
    for (let i = 0; i < key.length; i++) {
      this.#innerPad[i] = (this.#innerPad[i] as number) ^ (key[i] as number);
      this.#outer[i] = (this.#outer[i] as number) ^ (key[i] as number);
    }
    this.#innerPad.copy(this.#scratch, 0);
  }

  /** HMAC-SHA256 of `message` (UTF-8), base64url. */
  mac(message: string): string {
    if (oneShot === undefined) return createHmac('sha256', this.#key).update(message).digest('base64url');
    const length = Buffer.byteLength(message, 'utf8');
    let inner: Buffer;
    if (length <= SCRATCH_BYTES) {
      this.#scratch.write(message, BLOCK_BYTES, 'utf8');
      inner = this.#scratch.subarray(0, BLOCK_BYTES + length);
    } else {
      inner = Buffer.concat([this.#innerPad, Buffer.from(message, 'utf8')]);
    }
    // A hex string, not a Buffer: allocating the Buffer costs more than the digest itself.
    this.#outer.write(oneShot('sha256', inner, 'hex'), BLOCK_BYTES, 'hex');
    return oneShot('sha256', this.#outer, 'base64url');
  }

  /** Never shows the key, whatever prints it. */
  toJSON(): string {
    return '[KeySecret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[KeySecret]';
  }
}

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
  return new KeySecret(bytes);
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
  return secret.mac(`${facet}\0${normaliseFacet(facet, value)}`);
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
