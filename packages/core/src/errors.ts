/**
 * One class per failure kind, each with a stable `code`. The `isX()` guards check a
 * brand rather than `instanceof`, so they still work when two copies of the package
 * are installed side by side.
 */

const BRAND = Symbol.for('formsecurity.error');

export const ErrorCodes = {
  timeout: 'FS_TIMEOUT',
  circuitOpen: 'FS_CIRCUIT_OPEN',
  quotaExhausted: 'FS_QUOTA_EXHAUSTED',
  bulkheadFull: 'FS_BULKHEAD_FULL',
  providerResponse: 'FS_PROVIDER_RESPONSE',
  providerFailure: 'FS_PROVIDER_FAILURE',
  configuration: 'FS_CONFIG',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The base of every error FormSecurity creates. Messages never contain secrets. */
export class FormSecurityError extends Error {
  readonly code: ErrorCode;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The request's deadline passed before the provider answered. */
export class TimeoutError extends FormSecurityError {
  constructor(message = 'deadline passed before an answer came', options?: { cause?: unknown }) {
    super(ErrorCodes.timeout, message, options);
  }
}

/** The provider's circuit breaker is open (or half-open and busy probing). */
export class CircuitOpenError extends FormSecurityError {
  constructor(provider: string, options?: { cause?: unknown }) {
    super(ErrorCodes.circuitOpen, `circuit for ${provider} is open`, options);
  }
}

/** A quota, rate limit or upstream pause stops the call; `retryAfterMs` says for how long when known. */
export class QuotaExhaustedError extends FormSecurityError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(ErrorCodes.quotaExhausted, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Too many calls to one provider are already under way or queued. */
export class BulkheadFullError extends FormSecurityError {
  constructor(provider: string) {
    super(ErrorCodes.bulkheadFull, `too many concurrent calls to ${provider}`);
  }
}

/**
 * How a provider's answer was wrong. `invalid-input` is the caller's fault (the
 * provider rejected the subject) and does not count against the provider's health;
 * `rate-limited` (wait and retry) and `quota-exceeded` (stop until the period resets)
 * are quota states, not faults.
 */
export type ProviderResponseKind =
  | 'http'
  | 'malformed'
  | 'auth'
  | 'invalid-input'
  | 'rate-limited'
  | 'quota-exceeded'
  | 'network';

/** The provider answered, but not with a usable result. */
export class ProviderResponseError extends FormSecurityError {
  readonly kind: ProviderResponseKind;
  readonly status: number | undefined;
  /** Upstream's own word on when to try again, in milliseconds, when it gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: ProviderResponseKind,
    message: string,
    options?: { cause?: unknown; status?: number; retryAfterMs?: number },
  ) {
    super(ErrorCodes.providerResponse, message, options);
    this.kind = kind;
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Configuration is wrong; `issues` names every wrong key with what was expected. */
export class ConfigurationError extends FormSecurityError {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(ErrorCodes.configuration, `invalid FormSecurity configuration:\n- ${issues.join('\n- ')}`);
    this.issues = issues;
  }
}

function hasCode(error: unknown, code: ErrorCode): boolean {
  return isFormSecurityError(error) && error.code === code;
}

export function isFormSecurityError(error: unknown): error is FormSecurityError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}
export const isTimeoutError = (e: unknown): e is TimeoutError => hasCode(e, ErrorCodes.timeout);
export const isCircuitOpenError = (e: unknown): e is CircuitOpenError => hasCode(e, ErrorCodes.circuitOpen);
export const isQuotaExhaustedError = (e: unknown): e is QuotaExhaustedError => hasCode(e, ErrorCodes.quotaExhausted);
export const isBulkheadFullError = (e: unknown): e is BulkheadFullError => hasCode(e, ErrorCodes.bulkheadFull);
export const isProviderResponseError = (e: unknown): e is ProviderResponseError =>
  hasCode(e, ErrorCodes.providerResponse);
export const isConfigurationError = (e: unknown): e is ConfigurationError => hasCode(e, ErrorCodes.configuration);
