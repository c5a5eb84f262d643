import type { ProviderResult, Signal, SignalStatus } from '../contracts.js';
import {
  ErrorCodes,
  ProviderResponseError,
  isFormSecurityError,
  isProviderResponseError,
  isQuotaExhaustedError,
  isTimeoutError,
} from '../errors.js';

const MAX_REASONS = 10;
const MAX_REASON_LENGTH = 300;

/**
 * Checks that a provider's answer has the promised shape; anything else (a third-party
 * provider's bug, garbage from upstream) is a `malformed` response error.
 */
export function validateResult(name: string, value: unknown): ProviderResult {
  if (typeof value !== 'object' || value === null) {
    throw new ProviderResponseError('malformed', `${name} returned no result object`);
  }
  const { score, reasons, data, upstream } = value as Record<string, unknown>;
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
    throw new ProviderResponseError('malformed', `${name} returned a score outside 0..1`);
  }
  if (reasons !== undefined && (!Array.isArray(reasons) || !reasons.every((r) => typeof r === 'string'))) {
    throw new ProviderResponseError('malformed', `${name} returned reasons that are not strings`);
  }
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) {
    throw new ProviderResponseError('malformed', `${name} returned data that is not an object`);
  }
  return {
    score,
    reasons: (reasons ?? []).slice(0, MAX_REASONS).map((r: string) => r.slice(0, MAX_REASON_LENGTH)),
    ...(data === undefined ? {} : { data: data as Record<string, unknown> }),
    ...(upstream === undefined ? {} : { upstream: upstream as ProviderResult['upstream'] & object }),
  };
}

/** The signal status a failure stands for. */
export function statusOf(error: unknown): SignalStatus {
  if (isTimeoutError(error)) return 'timeout';
  if (isQuotaExhaustedError(error)) return 'quota-exhausted';
  if (isProviderResponseError(error) && (error.kind === 'rate-limited' || error.kind === 'quota-exceeded')) {
    return 'quota-exhausted';
  }
  if (isFormSecurityError(error) && error.code === ErrorCodes.circuitOpen) return 'circuit-open';
  return 'error';
}

/**
 * Turns a failure into a signal. Only FormSecurity's own messages (which never hold
 * secrets) are shown; a foreign error contributes its class name alone, since its
 * message may quote a URL or a header with a key in it.
 */
export function failureSignal(name: string, error: unknown, latencyMs: number): Signal {
  const status = statusOf(error);
  if (isFormSecurityError(error)) {
    return { status, code: error.code, reasons: [`${name}: ${error.message}`], latencyMs };
  }
  const kind = error instanceof Error ? error.name : typeof error;
  return { status, code: ErrorCodes.providerFailure, reasons: [`${name} failed (${kind})`], latencyMs };
}

export function resultSignal(
  status: 'fresh' | 'cached' | 'stale',
  result: ProviderResult,
  latencyMs: number,
  ageMs?: number,
): Signal {
  return {
    status,
    score: result.score,
    reasons: result.reasons ?? [],
    ...(result.data === undefined ? {} : { data: result.data }),
    latencyMs,
    ...(ageMs === undefined ? {} : { ageMs }),
  };
}
