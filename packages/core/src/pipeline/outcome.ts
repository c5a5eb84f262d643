import type { ProviderResult, Signal, SignalStatus, Subject } from '../contracts.js';
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
  const result: { -readonly [K in keyof ProviderResult]: ProviderResult[K] } = { score, reasons: boundedReasons(reasons) };
  if (data !== undefined) result.data = data as Record<string, unknown>;
  if (upstream !== undefined) result.upstream = upstream as ProviderResult['upstream'] & object;
  return result;
}

const NO_REASONS: readonly string[] = Object.freeze([]);

/** At most MAX_REASONS reasons of at most MAX_REASON_LENGTH characters; a copy, so the provider cannot change them later. */
function boundedReasons(reasons: readonly string[] | undefined): readonly string[] {
  if (reasons === undefined || reasons.length === 0) return NO_REASONS;
  const kept = reasons.length > MAX_REASONS ? reasons.slice(0, MAX_REASONS) : [...reasons];
  for (let i = 0; i < kept.length; i++) {
    const reason = kept[i] as string;
    if (reason.length > MAX_REASON_LENGTH) kept[i] = reason.slice(0, MAX_REASON_LENGTH);
  }
  return kept;
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
    // Provider errors usually name the provider already ("abuseipdb: HTTP 503").
    const reason = error.message.startsWith(`${name}:`) ? error.message : `${name}: ${error.message}`;
    return { status, code: error.code, reasons: [reason], latencyMs };
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
  // Whole literals, one per shape: properties added afterwards would each move the
  // object to a new hidden class and a separate property store, on every cached answer.
  const { score, data } = result;
  const reasons = result.reasons ?? NO_REASONS;
  if (data !== undefined) {
    return ageMs === undefined ? { status, score, reasons, latencyMs, data } : { status, score, reasons, latencyMs, data, ageMs };
  }
  return ageMs === undefined ? { status, score, reasons, latencyMs } : { status, score, reasons, latencyMs, ageMs };
}

const SUBJECT_PLACEHOLDER = '[subject]';

function scrubValue(value: unknown, needles: readonly string[], depth: number): unknown {
  if (typeof value === 'string') {
    let text = value;
    const lower = text.toLowerCase();
    for (const needle of needles) if (lower.includes(needle)) text = text.split(needle).join(SUBJECT_PLACEHOLDER);
    // A case-insensitive hit the exact split missed (an upstream that upper-cased the value).
    for (const needle of needles) if (text.toLowerCase().includes(needle)) return SUBJECT_PLACEHOLDER;
    return text;
  }
  if (typeof value !== 'object' || value === null || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, needles, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = scrubValue(v, needles, depth + 1);
  return out;
}

/**
 * Removes the subject's own IP and e-mail from a provider's answer (ip-api echoes the
 * address it was asked about, for instance), so a cached answer never holds them.
 */
export function scrubSubject(result: ProviderResult, subject: Subject): ProviderResult {
  if (result.data === undefined && (result.reasons === undefined || result.reasons.length === 0)) return result;
  const needles = [subject.ip, subject.email].filter((v): v is string => v !== undefined && v.length >= 3).map((v) => v.toLowerCase());
  if (needles.length === 0) return result;
  return {
    ...result,
    reasons: (result.reasons ?? []).map((r) => scrubValue(r, needles, 0) as string),
    ...(result.data === undefined ? {} : { data: scrubValue(result.data, needles, 0) as Record<string, unknown> }),
  };
}
