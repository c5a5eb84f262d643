/**
 * A value that must never be printed: API keys, license keys, captcha secrets, the
 * cache's HMAC key. Every way JavaScript turns an object into text (`String()`,
 * template literals, `JSON.stringify`, `util.inspect`, `console.log`, loggers) yields
 * a placeholder; only `reveal()` gives the value, and only the code that sends it
 * over the wire should call it.
 */

const BRAND = Symbol.for('formsecurity.secret');
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** What every printing path shows instead of the value. */
export const REDACTED_SECRET = '[redacted]';

/** Options of a {@link Secret}. */
export interface SecretOptions {
  /**
   * A name for messages and logs, e.g. the environment variable it came from
   * (`ABUSEIPDB_API_KEY`). Never the value; shown by `util.inspect`.
   */
  readonly label?: string;
}

/**
 * A secret value that redacts itself everywhere except `reveal()`.
 *
 * The value lives in a private field, so it is not an own property: spreading,
 * `Object.entries`, `structuredClone` and deep-copying loggers see nothing either.
 *
 * @example
 * const key = new Secret(process.env.ABUSEIPDB_API_KEY ?? '', { label: 'ABUSEIPDB_API_KEY' });
 * `${key}`;              // '[redacted]'
 * JSON.stringify({ key }); // '{"key":"[redacted]"}'
 * fetch(url, { headers: { Key: key.reveal() } }); // the one place that sends it
 */
export class Secret {
  readonly #read: () => string;
  readonly label: string | undefined;
  readonly [BRAND] = true;

  /**
   * @param value The value, or a function returning the current value (for values that
   *   rotate; see `secretFrom`). The function is called on every `reveal()`.
   */
  constructor(value: string | (() => string), options: SecretOptions = {}) {
    if (typeof value === 'string') this.#read = () => value;
    else if (typeof value === 'function') this.#read = value;
    else throw new TypeError('Secret: expected a string or a function returning one');
    this.label = options.label;
  }

  /** The value itself: call it only where the value is sent, never to print or store it. */
  reveal(): string {
    return this.#read();
  }

  toString(): string {
    return REDACTED_SECRET;
  }

  toJSON(): string {
    return REDACTED_SECRET;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED_SECRET;
  }

  [INSPECT](): string {
    return this.label === undefined ? `Secret(${REDACTED_SECRET})` : `Secret(${this.label}: ${REDACTED_SECRET})`;
  }
}

/**
 * Whether a value is a {@link Secret}, also one created by another installed copy of
 * this package (the check reads a brand, not the prototype).
 *
 * @example
 * isSecret(new Secret('k')); // true
 * isSecret('k');             // false
 */
export function isSecret(value: unknown): value is Secret {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** A key as options take it: a plain string (kept for compatibility) or a {@link Secret}. */
export type SecretInput = string | Secret;

/**
 * The value of a key given as a string or a {@link Secret}; for the code that sends it.
 *
 * @example
 * const headers = { Key: revealSecret(options.key) };
 */
export function revealSecret(value: SecretInput): string {
  return typeof value === 'string' ? value : value.reveal();
}

/**
 * Wraps a key in a {@link Secret} (a Secret is returned as it is).
 *
 * @example
 * const key = toSecret(process.env.IPQS_API_KEY ?? '', 'IPQS_API_KEY');
 */
export function toSecret(value: SecretInput, label?: string): Secret {
  if (isSecret(value)) return value;
  return new Secret(value, label === undefined ? {} : { label });
}
