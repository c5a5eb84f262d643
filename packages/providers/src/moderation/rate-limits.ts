/**
 * OpenAI-style rate-limit headers: `x-ratelimit-remaining-requests` and
 * `x-ratelimit-reset-requests`, the reset written as a Go duration (`1s`, `6m0s`, `20ms`).
 * Compatible servers may leave any of them out.
 */
import type { UpstreamLimits } from '@formsecurity/core';
import type { ResponseHeaders } from '../http.js';
import { parseRetryAfter } from '../upstream-limits.js';

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/;
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;

/**
 * Parses a Go-style duration into milliseconds (rounded up, so a pause is never too short);
 * `undefined` when the text is not one.
 *
 * @example
 * parseResetDuration('6m0s');  // 360000
 * parseResetDuration('1.5s');  // 1500
 * parseResetDuration('20ms');  // 20
 */
export function parseResetDuration(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (text.length > 40 || !DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit as string] as number);
  return Number.isFinite(total) ? Math.ceil(total) : undefined;
}

/**
 * Reads the request limits of an OpenAI-compatible answer. `retryAfterMs` comes from
 * `Retry-After` when present, else — on a 429 only — from the request window's reset.
 *
 * @example
 * readModerationLimits(headers, Date.now(), false); // { remaining: 499, resetAtMs: now + 120 }
 */
export function readModerationLimits(headers: ResponseHeaders, nowMs: number, rateLimited: boolean): UpstreamLimits {
  const remainingText = headers.get('x-ratelimit-remaining-requests')?.trim();
  const remaining = remainingText !== undefined && /^\d{1,12}$/.test(remainingText) ? Number(remainingText) : undefined;
  const resetMs = parseResetDuration(headers.get('x-ratelimit-reset-requests'));
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs) ?? (rateLimited ? resetMs : undefined);
  return {
    ...(remaining === undefined ? {} : { remaining }),
    ...(resetMs === undefined ? {} : { resetAtMs: nowMs + resetMs }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}
