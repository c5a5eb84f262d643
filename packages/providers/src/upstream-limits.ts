/**
 * Reading what an upstream says about its own limits (`Retry-After`, `X-RateLimit-*`)
 * into the core's `UpstreamLimits` shape, so the quota layer can pause before the
 * upstream starts refusing.
 */
import type { UpstreamLimits } from '@formsecurity/core';
import type { ResponseHeaders } from './http.js';

// A reset header above this is an epoch timestamp rather than a delay: 1e9 s is 2001,
// far beyond any window length a service would send as "seconds until reset".
const EPOCH_SECONDS_THRESHOLD = 1e9;
const EPOCH_MILLISECONDS_THRESHOLD = 1e12;

function parseNonNegativeNumber(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  // Number('') is 0, and Number('0x10') is 16: neither is a header value we were sent.
  if (text === '' || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Parses a `Retry-After` value — delay seconds or an HTTP-date — into milliseconds from `nowMs`.
 * A date in the past means "now" (0); anything unparseable is `undefined`.
 *
 * @example
 * parseRetryAfter('120', Date.now()); // 120000
 * parseRetryAfter('Wed, 21 Oct 2037 07:28:00 GMT', Date.now()); // milliseconds until then
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const seconds = parseNonNegativeNumber(value);
  if (seconds !== undefined) return Math.round(seconds * 1000);
  const text = value.trim();
  // An HTTP-date always names a month; without that check Date.parse reads '-5' as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * Parses `X-RateLimit-Reset` into an epoch time in milliseconds. Services disagree on the
 * unit, so the size decides: epoch milliseconds, epoch seconds (AbuseIPDB), or else
 * seconds from now.
 */
export function parseRateLimitReset(value: string | null, nowMs: number): number | undefined {
  const number = parseNonNegativeNumber(value);
  if (number === undefined) return undefined;
  if (number >= EPOCH_MILLISECONDS_THRESHOLD) return Math.round(number);
  if (number >= EPOCH_SECONDS_THRESHOLD) return Math.round(number * 1000);
  return Math.round(nowMs + number * 1000);
}

/**
 * Reads `X-RateLimit-Remaining`, `X-RateLimit-Reset` and `Retry-After`. Fields whose
 * header is missing or unreadable are left out.
 *
 * @example
 * const limits = readUpstreamLimits(response.headers, Date.now());
 * if (limits.remaining === 0) pauseUntil(limits.resetAtMs);
 */
export function readUpstreamLimits(headers: ResponseHeaders, nowMs: number): UpstreamLimits {
  const remainingValue = parseNonNegativeNumber(headers.get('x-ratelimit-remaining'));
  const remaining = remainingValue === undefined ? undefined : Math.floor(remainingValue);
  const resetAtMs = parseRateLimitReset(headers.get('x-ratelimit-reset'), nowMs);
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs);
  return {
    ...(remaining === undefined ? {} : { remaining }),
    ...(resetAtMs === undefined ? {} : { resetAtMs }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** True when the limits carry no field at all. */
export function isEmptyLimits(limits: UpstreamLimits): boolean {
  return limits.remaining === undefined && limits.resetAtMs === undefined && limits.retryAfterMs === undefined;
}
