/**
 * Which errors count against a provider's health. Only a provider that is broken
 * or slow should open its breaker; a caller's bad input, a spent quota or our own
 * protective rejections say nothing about the provider.
 */

import {
  isBulkheadFullError,
  isCircuitOpenError,
  isProviderResponseError,
  isQuotaExhaustedError,
} from '../errors.js';

/** Returns true when `error` says the provider is failing; false when it should be ignored. */
export type FailureFilter = (error: unknown) => boolean;

/**
 * The default filter. Ignored (neither success nor failure):
 * - `ProviderResponseError` of kind `invalid-input` (e.g. HTTP 422): the subject was bad, not the provider;
 * - kinds `rate-limited` / `quota-exceeded` and `QuotaExhaustedError`: a quota state, handled by the quota layer;
 * - `BulkheadFullError` / `CircuitOpenError`: our own guards, which never reached the provider.
 *
 * Everything else, timeouts included, is a failure.
 *
 * @example
 * isProviderFailure(new ProviderResponseError('invalid-input', 'bad ip', { status: 422 })); // false
 * isProviderFailure(new TimeoutError()); // true
 */
export const isProviderFailure: FailureFilter = (error) => {
  if (isProviderResponseError(error)) {
    return error.kind !== 'invalid-input' && error.kind !== 'rate-limited' && error.kind !== 'quota-exceeded';
  }
  return !isQuotaExhaustedError(error) && !isBulkheadFullError(error) && !isCircuitOpenError(error);
};
