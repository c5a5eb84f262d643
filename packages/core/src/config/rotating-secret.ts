/**
 * Secrets read from somewhere that can change them (a vault, a mounted secret file)
 * and re-read on a schedule, so a rotated key takes effect without a restart.
 */
import { ConfigurationError } from '../errors.js';
import { defaultLogger, redactingLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import { Secret } from './secret.js';

/** Options of {@link secretFrom}. */
export interface SecretFromOptions {
  /** Re-read the value this often, in milliseconds (default: never; read once). */
  readonly refreshMs?: number;
  /** Give up one read after this long (default 10 s); a hung vault must not stop later refreshes. */
  readonly timeoutMs?: number;
  /** Names the secret in log lines and errors (never the value), e.g. `vault:abuseipdb`. */
  readonly label?: string;
  /** Where a failed refresh is reported (default: the default logger); always redacted. */
  readonly logger?: Logger;
}

/** A {@link Secret} that re-reads its value; `stop()` ends the schedule. */
export interface RotatingSecret extends Secret {
  /** Reads the value now; resolves `false` (keeping the last good value) when the read fails. */
  refresh(): Promise<boolean>;
  /** Stops re-reading; the last value stays readable. */
  stop(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MIN_REFRESH_MS = 1_000;

/** Something about a read went wrong; says what, never what the value was. */
class SecretReadError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SecretReadError';
  }
}

/**
 * Trailing whitespace is dropped because secret files usually end in a newline; a line
 * break inside would let a key smuggle a second header into a request.
 */
function acceptValue(value: unknown): string {
  if (typeof value !== 'string') throw new SecretReadError('the source did not return a string');
  const trimmed = value.trim();
  if (trimmed === '') throw new SecretReadError('the source returned an empty value');
  if (/[\r\n]/.test(trimmed)) throw new SecretReadError('the value contains a line break');
  return trimmed;
}

async function readWithin(read: () => string | Promise<string>, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SecretReadError(`no value within ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.();
  });
  try {
    return acceptValue(await Promise.race([Promise.resolve().then(read), timeout]));
  } finally {
    clearTimeout(timer);
  }
}

/** A short description of a failure that cannot quote the value: the error's name and code only. */
function failureName(error: unknown): string {
  if (error instanceof SecretReadError) return error.message;
  if (typeof error === 'object' && error !== null) {
    const { name, code } = error as { name?: unknown; code?: unknown };
    const label = typeof name === 'string' ? name : 'error';
    return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,39}$/.test(code) ? `${label} (${code})` : label;
  }
  return 'error';
}

function validateOptions(options: SecretFromOptions): void {
  const issues: string[] = [];
  const { refreshMs, timeoutMs } = options;
  if (refreshMs !== undefined && !(Number.isFinite(refreshMs) && refreshMs >= MIN_REFRESH_MS)) {
    issues.push(`secretFrom.refreshMs: expected milliseconds >= ${MIN_REFRESH_MS}, got ${JSON.stringify(refreshMs)}`);
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    issues.push(`secretFrom.timeoutMs: expected milliseconds > 0, got ${JSON.stringify(timeoutMs)}`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * Reads a secret from a function (a vault client, a secret file) and, with `refreshMs`,
 * re-reads it on that schedule. A failed refresh never throws: the last good value stays
 * in use and a warning without the value is logged. Only the first read can fail the
 * call, since without a value there is nothing to keep.
 *
 * @example
 * const key = await secretFrom(() => vault.read('formsecurity/abuseipdb'), { refreshMs: 15 * 60_000, label: 'abuseipdb' });
 * const provider = abuseIpdb({ key });  // each request sends the latest value
 * // on shutdown:
 * key.stop();
 */
export async function secretFrom(
  read: () => string | Promise<string>,
  options: SecretFromOptions = {},
): Promise<RotatingSecret> {
  validateOptions(options);
  const label = options.label ?? 'secret';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let current: string;
  try {
    current = await readWithin(read, timeoutMs);
  } catch (error) {
    throw new ConfigurationError([`${label}: could not read the secret (${failureName(error)})`]);
  }

  const rotating = new Rotation(current, read, timeoutMs, label, options.logger);
  if (options.refreshMs !== undefined) rotating.schedule(options.refreshMs);
  return rotating;
}

/** The value holder behind {@link secretFrom}: the last good value, and the schedule that renews it. */
class Rotation extends Secret implements RotatingSecret {
  readonly #value: { current: string };
  #inFlight: Promise<boolean> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #logger: Logger | undefined;
  readonly #readSource: () => string | Promise<string>;
  readonly #timeoutMs: number;
  readonly #configuredLogger: Logger | undefined;

  constructor(first: string, read: () => string | Promise<string>, timeoutMs: number, label: string, logger: Logger | undefined) {
    const value = { current: first };
    super(() => value.current, { label });
    this.#value = value;
    this.#readSource = read;
    this.#timeoutMs = timeoutMs;
    this.#configuredLogger = logger;
  }

  refresh(): Promise<boolean> {
    // Overlapping ticks share one read, so a slow vault is never asked twice at once.
    this.#inFlight ??= readWithin(this.#readSource, this.#timeoutMs)
      .then(
        (value) => {
          this.#value.current = value;
          return true;
        },
        (error: unknown) => {
          this.#log().warn('secret refresh failed; keeping the last good value', {
            source: this.label,
            reason: failureName(error),
          });
          return false;
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  schedule(refreshMs: number): void {
    this.stop();
    this.#timer = setInterval(() => void this.refresh(), refreshMs);
    // A refresh schedule alone must not keep the process alive.
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #log(): Logger {
    this.#logger ??= redactingLogger(this.#configuredLogger ?? defaultLogger());
    return this.#logger;
  }
}
