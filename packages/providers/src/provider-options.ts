/**
 * Checks of the options every HTTP provider shares, so each factory reports them the
 * same way: one issue per wrong key, named with the provider's option prefix.
 */

/** Options every HTTP provider accepts besides its own. */
export interface CommonProviderOptions {
  /** How much a full score counts in the verdict, 0..1. */
  readonly weight?: number;
  /** How long an answer stays fresh in the cache, in milliseconds. */
  readonly ttlMs?: number;
  /** Largest answer body accepted, in bytes. */
  readonly maxBodyBytes?: number;
}

/**
 * Returns one issue per wrong common option (empty when all is well).
 *
 * @example
 * commonOptionIssues({ weight: 2 }, 'abuseIpdb'); // ['abuseIpdb.weight: expected a number from 0 to 1']
 */
export function commonOptionIssues(options: CommonProviderOptions, option: string): string[] {
  const issues: string[] = [];
  const { weight, ttlMs, maxBodyBytes } = options;
  if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0 && weight <= 1)) {
    issues.push(`${option}.weight: expected a number from 0 to 1`);
  }
  if (ttlMs !== undefined && !(typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs > 0)) {
    issues.push(`${option}.ttlMs: expected a positive number of milliseconds`);
  }
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    issues.push(`${option}.maxBodyBytes: expected a positive integer`);
  }
  return issues;
}

/**
 * A key as provider options take it: a string, or a `Secret` from `@formsecurity/core`
 * (any object with `reveal()`, so a copy of the core installed twice still fits). A Secret
 * is read on every request, so a rotating one sends its newest value.
 */
export type KeyInput = string | { reveal(): string };

function isRevealable(value: unknown): value is { reveal(): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { reveal?: unknown }).reveal === 'function';
}

/**
 * The value to check of a key given as a string or a Secret (its current value); anything
 * else as it is, for the check to refuse.
 *
 * @example
 * keyValue(new Secret('k')); // 'k'
 */
export function keyValue(value: unknown): unknown {
  return isRevealable(value) ? value.reveal() : value;
}

/**
 * A key's current value, read where the request is built: a rotating Secret then sends
 * its newest value without the provider being rebuilt.
 *
 * @example
 * const headers = { key: revealKey(options.key) };
 */
export function revealKey(key: KeyInput): string {
  return typeof key === 'string' ? key : key.reveal();
}

/**
 * An issue when a required secret (a string or a Secret) is missing or blank. The value
 * itself is never quoted.
 *
 * @example
 * secretIssues(undefined, 'abuseIpdb.key'); // ['abuseIpdb.key: required (the API key from your account)']
 */
export function secretIssues(given: unknown, option: string, what = 'the API key from your account'): string[] {
  const value = keyValue(given);
  if (typeof value !== 'string' || value.trim() === '') return [`${option}: required (${what})`];
  // A line break in a header value would let the key smuggle a second header in.
  if (/[\r\n]/.test(value)) return [`${option}: must not contain line breaks`];
  return [];
}
