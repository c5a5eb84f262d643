/**
 * Turns schema issues into the messages a ConfigurationError carries:
 * `<key path>: expected <what>, got <what was given>`. A value under a key that names
 * a secret is never quoted, and no quoted value is long enough to carry one by accident.
 */
import type { core } from 'zod';
import { isSecretKey } from '../log/redact.js';
import { isSecret } from './secret.js';

type Issue = core.$ZodIssue;
type PathSegment = PropertyKey;

const MAX_QUOTED = 60;

/** `['providers', 1, 'name']` → `providers[1].name`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Whether the value at this path must not be quoted: a key that names a secret
 * (`apiKey`, `cache.secret`, anything under `keys`), or a Redis URL (it may hold a
 * password). MaxMind's account id is the exception: it names an account and proves nothing.
 */
export function isSecretPath(path: readonly PathSegment[]): boolean {
  if (path[path.length - 1] === 'accountId') return false;
  return path.some(
    (segment, index) => typeof segment === 'string' && (isSecretKey(segment) || (segment === 'url' && path[index - 1] === 'redis')),
  );
}

/** A short, safe description of what was given. */
export function describeValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (isSecret(value)) return 'a Secret';
  switch (typeof value) {
    case 'string': {
      if (secret) return value === '' ? 'an empty string' : 'a string';
      const quoted = JSON.stringify(value);
      return quoted.length > MAX_QUOTED ? `${quoted.slice(0, MAX_QUOTED - 4)}…" (${value.length} characters)` : quoted;
    }
    case 'number':
      return String(value);
    case 'boolean':
      return String(value);
    case 'function':
      return 'a function';
    case 'bigint':
      return `${String(value)}n`;
    case 'symbol':
      return 'a symbol';
    default:
      if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
      if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
      return 'an object';
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  function: 'a function',
  record: 'an object',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }, side: 'min' | 'max'): string {
  const limit = String(side === 'min' ? issue.minimum : issue.maximum);
  switch (issue.origin) {
    case 'array':
    case 'set':
      return side === 'min' ? `a list of at least ${limit}` : `a list of at most ${limit}`;
    case 'string':
      return side === 'min' ? `at least ${limit} characters` : `at most ${limit} characters`;
    default: {
      const inclusive = issue.inclusive !== false;
      const op = side === 'min' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
      return `a number ${op} ${limit}`;
    }
  }
}

/** What the schema wanted, in words. */
function expectation(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return typeName(issue.expected);
    case 'too_small':
      return bound(issue, 'min');
    case 'too_big':
      return bound(issue, 'max');
    case 'invalid_value':
      return issue.values.length === 1
        ? JSON.stringify(issue.values[0])
        : `one of ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    case 'invalid_format':
      return `a ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

/**
 * A union's own issue says only "none of the shapes fit". When the value matched one
 * shape and failed inside it (a `{ redis: { url } }` with a bad URL), that shape's
 * issues say more: they replace the union's.
 */
function expandUnion(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const inside = issue.errors.find((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0));
  if (inside === undefined) return [issue];
  return inside.flatMap((inner) => expandUnion({ ...inner, path: [...issue.path, ...inner.path] } as Issue));
}

/**
 * One message per issue. Custom refinements write their own text: a message starting
 * with `expected` gets the value appended; any other text is used as it is.
 */
export function issueMessage(issue: Issue): string {
  const path = formatPath(issue.path);
  const secret = isSecretPath(issue.path);
  const given = describeValue(issue.input, secret);
  if (issue.code === 'custom' || issue.code === 'invalid_union') {
    const text = issue.message;
    return text.startsWith('expected ') ? `${path}: ${text}, got ${given}` : `${path}: ${text}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown option`).join('\n');
  }
  return `${path}: expected ${expectation(issue)}, got ${given}`;
}

/** Sorts messages by key, so a list of problems reads like the configuration does. */
export function byKey(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Splits issues into errors and unknown keys (which the engine reports as warnings). */
export function partitionIssues(issues: readonly Issue[]): { errors: string[]; unknownKeys: string[] } {
  const errors: string[] = [];
  const unknownKeys: string[] = [];
  for (const issue of issues.flatMap(expandUnion)) {
    if (issue.code === 'unrecognized_keys') unknownKeys.push(...issueMessage(issue).split('\n'));
    else errors.push(issueMessage(issue));
  }
  return { errors, unknownKeys };
}
