/**
 * Purge scopes and the message that carries them to every instance. A subject purge
 * travels as HMAC digests, never as the subject itself.
 */
import type { Subject, SubjectFacet } from '../contracts.js';
import { ConfigurationError } from '../errors.js';
import type { PurgeScopeKind } from './events.js';
import { checkName, keyMentions, subjectDigest, type KeySecret } from './keys.js';

/** The facets a subject purge covers. */
export type PurgeableSubject = Pick<Subject, 'ip' | 'email' | 'username' | 'content' | 'userAgent'>;

/**
 * What to forget: everything cached about one subject (an erasure request), every
 * answer of one provider, or all of it.
 *
 * @example
 * await cache.purge({ subject: { ip: '203.0.113.7', email: 'someone@example.org' } });
 * await cache.purge({ provider: 'dnsbl' });
 * await cache.purge({ all: true });
 */
export type PurgeScope = { readonly subject: PurgeableSubject } | { readonly provider: string } | { readonly all: true };

/** The bus message; `o` is the sending instance, which ignores its own echo. */
export type PurgeMessage =
  | { readonly o: string; readonly p: 'subject'; readonly d: readonly string[] }
  | { readonly o: string; readonly p: 'provider'; readonly n: string }
  | { readonly o: string; readonly p: 'all' };

const PURGEABLE_FACETS = ['ip', 'email', 'username', 'content', 'userAgent'] as const satisfies readonly SubjectFacet[];

export function toPurgeMessage(scope: PurgeScope, secret: KeySecret, origin: string): PurgeMessage {
  if ('subject' in scope) {
    const digests: string[] = [];
    for (const facet of PURGEABLE_FACETS) {
      const value = scope.subject[facet];
      if (value !== undefined && value !== '') digests.push(subjectDigest(secret, facet, value));
    }
    return { o: origin, p: 'subject', d: digests };
  }
  if ('provider' in scope) {
    const issues: string[] = [];
    checkName('purge.provider', scope.provider, issues);
    if (issues.length > 0) throw new ConfigurationError(issues);
    return { o: origin, p: 'provider', n: scope.provider };
  }
  return { o: origin, p: 'all' };
}

export function scopeKind(message: PurgeMessage): PurgeScopeKind {
  return message.p;
}

/** Which L1 keys a purge removes; `undefined` means all of them. */
export function keyMatcher(message: PurgeMessage): ((key: string) => boolean) | undefined {
  switch (message.p) {
    case 'subject': {
      const digests = new Set(message.d);
      return (key) => keyMentions(key, digests);
    }
    case 'provider': {
      const prefix = `${message.n}:`;
      return (key) => key.startsWith(prefix);
    }
    case 'all':
      return undefined;
  }
}

/** Reads a bus message from another instance, trusting nothing about its shape. */
export function parsePurgeMessage(text: string): PurgeMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const message = parsed as Record<string, unknown>;
  if (typeof message['o'] !== 'string') return undefined;
  const origin = message['o'];
  switch (message['p']) {
    case 'subject': {
      const digests = message['d'];
      if (!Array.isArray(digests) || !digests.every((digest) => typeof digest === 'string')) return undefined;
      return { o: origin, p: 'subject', d: digests as string[] };
    }
    case 'provider':
      return typeof message['n'] === 'string' ? { o: origin, p: 'provider', n: message['n'] } : undefined;
    case 'all':
      return { o: origin, p: 'all' };
    default:
      return undefined;
  }
}
