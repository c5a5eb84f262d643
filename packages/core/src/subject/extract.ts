import type { Subject, SubjectFacet } from '../contracts.js';
import { ConfigurationError } from '../errors.js';
import { normalizeEmail } from './email.js';
import { createClientIpResolver } from './proxy.js';
import type { ForwardedHeader, TrustProxy } from './proxy.js';

/**
 * The framework-neutral view of a request that every adapter builds: the socket's
 * peer address, the headers (lower-case names, as Node gives them) and the parsed body.
 */
export interface RequestView {
  readonly remoteAddress: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: unknown;
}

/** Where the subject's facets come from, and how much of each is kept. */
export interface SubjectOptions {
  /** Who may tell us the client IP (default `false`: trust nobody). */
  readonly trustProxy?: TrustProxy;
  /** The forwarding header read through trusted hops (default `x-forwarded-for`). */
  readonly forwardedHeader?: ForwardedHeader;
  /** Body field names, tried in order (defaults: `email`; `username`, `name`; `message`, `comment`, `content`, `body`). */
  readonly fields?: {
    readonly email?: readonly string[];
    readonly username?: readonly string[];
    readonly content?: readonly string[];
  };
  /** Longest message kept, in characters (default 10,000; longer text is cut). */
  readonly maxContentLength?: number;
  /** Most body fields kept for local detectors (default 50), each cut to `maxFieldLength` (default 4,096). */
  readonly maxFields?: number;
  readonly maxFieldLength?: number;
  /**
   * Fields kept whatever the count cap, still cut to `maxFieldLength` (default: the
   * captcha token fields `cf-turnstile-response` and `h-captcha-response`, whose tokens
   * run to 2,048 characters and must survive a large form).
   */
  readonly keepFields?: readonly string[];
  /**
   * Only these facets are read from the request (default: all). The adapters pass the
   * facets their engine's providers look at, so no other part of a form is copied,
   * kept or checked.
   */
  readonly facets?: readonly SubjectFacet[];
}

const DEFAULT_FIELDS = {
  email: ['email'],
  username: ['username', 'name'],
  content: ['message', 'comment', 'content', 'body'],
} as const;
const DEFAULT_KEEP_FIELDS = ['cf-turnstile-response', 'h-captcha-response'];
const MAX_USERNAME_LENGTH = 100;
const MAX_FIELD_NAME_LENGTH = 100;
/** However many keys a body has, only this many times `maxFields` are looked at. */
const KEYS_EXAMINED_PER_FIELD = 4;
const MAX_USER_AGENT_LENGTH = 512;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Turns a request view into a subject; never throws. */
export type SubjectExtractor = (request: RequestView) => Subject;

function header(headers: RequestView['headers'], name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(', ');
  return undefined;
}

function positiveInteger(value: unknown, key: string, fallback: number, issues: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  issues.push(`${key}: expected a positive whole number, got ${JSON.stringify(value)}`);
  return fallback;
}

function fieldList(value: unknown, key: string, fallback: readonly string[], issues: string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  issues.push(`${key}: expected an array of body field names, got ${JSON.stringify(value)}`);
  return fallback;
}

/** How many body fields are kept, and how much of each. */
interface FieldBounds {
  readonly maxFields: number;
  readonly maxLength: number;
  /** Kept first, by name, outside the count cap. */
  readonly keep: readonly string[];
}

/**
 * The body's own string fields; anything else (arrays, objects, numbers) is not a form
 * value. The fields to keep are looked up by name, so a large form cannot push them out;
 * the others are taken in body order up to the cap, and a body with a huge number of
 * keys costs a bounded number of look-ups.
 */
function stringFields(body: unknown, bounds: FieldBounds): Record<string, string> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  let kept = 0;
  for (const name of bounds.keep) {
    const value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (typeof value === 'string' && !UNSAFE_KEYS.has(name)) {
      fields[name.slice(0, MAX_FIELD_NAME_LENGTH)] = value.slice(0, bounds.maxLength);
      kept++;
    }
  }
  let counted = 0;
  let examined = 0;
  const maxExamined = bounds.maxFields * KEYS_EXAMINED_PER_FIELD;
  for (const key in record) {
    if (counted >= bounds.maxFields || examined++ >= maxExamined) break;
    if (!Object.hasOwn(record, key) || UNSAFE_KEYS.has(key) || bounds.keep.includes(key)) continue;
    const value = record[key];
    if (typeof value !== 'string') continue;
    fields[key.slice(0, MAX_FIELD_NAME_LENGTH)] = value.slice(0, bounds.maxLength);
    counted++;
  }
  return kept + counted === 0 ? undefined : fields;
}

const FACETS: readonly SubjectFacet[] = ['ip', 'email', 'username', 'content', 'userAgent', 'fields'];

function facetSet(value: unknown, issues: string[]): ReadonlySet<SubjectFacet> | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => FACETS.includes(v as SubjectFacet))) return new Set(value as SubjectFacet[]);
  issues.push(`facets: expected an array of ${FACETS.join(' | ')}, got ${JSON.stringify(value)}`);
  return undefined;
}

function firstField(body: unknown, names: readonly string[]): unknown {
  if (typeof body !== 'object' || body === null) return undefined;
  for (const name of names) {
    if (Object.hasOwn(body, name)) return (body as Record<string, unknown>)[name];
  }
  return undefined;
}

/**
 * Builds the extractor once from (validated) options. A malformed value is left out
 * of the subject and named in `subject.issues`; nothing a client sends makes it throw.
 *
 * @example
 * const extract = createSubjectExtractor({ trustProxy: 1 });
 * const subject = extract({ remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': '203.0.113.7' }, body });
 */
export function createSubjectExtractor(options: SubjectOptions = {}): SubjectExtractor {
  const issues: string[] = [];
  const emailFields = fieldList(options.fields?.email, 'fields.email', DEFAULT_FIELDS.email, issues);
  const usernameFields = fieldList(options.fields?.username, 'fields.username', DEFAULT_FIELDS.username, issues);
  const contentFields = fieldList(options.fields?.content, 'fields.content', DEFAULT_FIELDS.content, issues);
  const maxContent = positiveInteger(options.maxContentLength, 'maxContentLength', 10_000, issues);
  const maxFields = positiveInteger(options.maxFields, 'maxFields', 50, issues);
  const maxFieldLength = positiveInteger(options.maxFieldLength, 'maxFieldLength', 4_096, issues);
  const keepFields = fieldList(options.keepFields, 'keepFields', DEFAULT_KEEP_FIELDS, issues);
  let resolveIp: ReturnType<typeof createClientIpResolver> | undefined;
  try {
    resolveIp = createClientIpResolver({
      ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
      ...(options.forwardedHeader === undefined ? {} : { header: options.forwardedHeader }),
    });
  } catch (error) {
    issues.push(...(error instanceof ConfigurationError ? error.issues : ['trustProxy: could not be read']));
  }
  const wanted = facetSet(options.facets, issues);
  if (issues.length > 0 || resolveIp === undefined) throw new ConfigurationError(issues);
  const clientIp = resolveIp;
  const forwardedHeader = options.forwardedHeader ?? 'x-forwarded-for';
  const want = (facet: SubjectFacet): boolean => wanted === undefined || wanted.has(facet);

  return (request) => {
    const found: { -readonly [K in keyof Subject]: Subject[K] } = {};
    const problems: string[] = [];
    const headers = request.headers ?? {};

    if (want('ip')) {
      const ip = clientIp(request.remoteAddress, header(headers, forwardedHeader));
      if (ip.ip !== undefined) found.ip = ip.ip;
      if (ip.issue !== undefined) problems.push(ip.issue);
    }

    const body = request.body;
    const email = want('email') ? firstField(body, emailFields) : undefined;
    if (typeof email === 'string' && email.trim() !== '') {
      const normalized = normalizeEmail(email);
      if (normalized === undefined) problems.push('email: not a valid address, left out');
      else found.email = normalized;
    } else if (email !== undefined && typeof email !== 'string') {
      problems.push('email: not a string, left out');
    }

    const username = want('username') ? firstField(body, usernameFields) : undefined;
    if (typeof username === 'string' && username.trim() !== '') {
      found.username = username.trim().slice(0, MAX_USERNAME_LENGTH);
    }

    const content = want('content') ? firstField(body, contentFields) : undefined;
    if (typeof content === 'string' && content.trim() !== '') found.content = content.slice(0, maxContent);

    const userAgent = want('userAgent') ? header(headers, 'user-agent') : undefined;
    if (userAgent !== undefined && userAgent !== '') found.userAgent = userAgent.slice(0, MAX_USER_AGENT_LENGTH);

    const fields = want('fields') ? stringFields(body, { maxFields, maxLength: maxFieldLength, keep: keepFields }) : undefined;
    if (fields !== undefined) found.fields = fields;
    if (problems.length > 0) found.issues = problems;
    return found;
  };
}
