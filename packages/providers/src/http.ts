/**
 * The one way providers speak HTTP: Node's fetch bound to the caller's AbortSignal, a
 * bounded body read, and every failure turned into a classified `ProviderResponseError`.
 * No caching, retry or breaker here: the core wraps each call in those.
 *
 * Error messages carry the provider name, the status and a fixed description only —
 * never the URL (queries carry subject data), a header value or the body (both may echo
 * secrets or the request).
 */
import { ProviderResponseError, isFormSecurityError } from '@formsecurity/core';
import type { UpstreamLimits } from '@formsecurity/core';
import { parseRetryAfter, readUpstreamLimits } from './upstream-limits.js';

/** Bodies above this are refused unless a provider asks for another cap. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** One HTTP call a provider makes. */
export interface HttpCall {
  /** The provider's name: the only identifying detail an error message carries. */
  readonly provider: string;
  readonly url: URL;
  /** The request's deadline; aborting it closes the socket. */
  readonly signal: AbortSignal;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | URLSearchParams;
  /** Default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
  /** The clock that turns Retry-After dates and reset times into milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** An answer whatever its status, with the body read (within the cap) as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly upstream: UpstreamLimits;
}

/** A 2xx answer whose body parsed as JSON. */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly upstream: UpstreamLimits;
}

// Node's error codes (ECONNRESET, UND_ERR_SOCKET, ...) are fixed tokens and help an operator;
// anything else in a cause may quote the address or the request, so it is dropped.
const SAFE_ERROR_CODE = /^[A-Z][A-Z0-9_]{1,39}$/;

function errorCodeOf(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 4; depth++) {
    if (typeof current !== 'object' || current === null) return undefined;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SAFE_ERROR_CODE.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What an abort rejects with: the signal's own reason, as fetch does. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Turns whatever fetch or the body stream threw into an abort, or a `network` error. */
function transportFailure(call: HttpCall, error: unknown, description: string): unknown {
  if (call.signal.aborted) return abortReason(call.signal);
  if (isFormSecurityError(error)) return error;
  const code = errorCodeOf(error);
  return new ProviderResponseError('network', `${call.provider}: ${description}${code ? ` (${code})` : ''}`);
}

function tooLarge(call: HttpCall, maxBytes: number): ProviderResponseError {
  return new ProviderResponseError('malformed', `${call.provider}: answer larger than ${maxBytes} bytes`);
}

async function readBoundedText(call: HttpCall, response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(call, maxBytes);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(call, maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

let warmedUp = false;

/**
 * Loads Node's fetch implementation ahead of the first submission. Its first use
 * blocks the event loop for tens of milliseconds (hundreds on a busy machine) while
 * undici loads, which would stall every deadline timer of that request; providers
 * call this when they are configured so the cost is paid at start-up instead.
 */
export function warmUpHttp(): void {
  if (warmedUp) return;
  warmedUp = true;
  fetch('data:,').then((response) => response.arrayBuffer(), () => undefined).catch(() => undefined);
}

/**
 * Sends one request and reads the body (up to the cap) whatever the status. Use it when a
 * provider must read error bodies itself; otherwise use {@link httpJson}.
 *
 * Rejects with the signal's reason when aborted, with `ProviderResponseError('network')`
 * when the connection fails or closes mid-answer, and with `'malformed'` when the body is
 * over the cap. Redirects are not followed (an endpoint comes only from configuration).
 *
 * @example
 * const answer = await httpRequest({ provider: 'akismet', url, method: 'POST', body: form, signal });
 * if (answer.text === 'invalid') throw new ProviderResponseError('auth', 'akismet: key rejected');
 */
export async function httpRequest(call: HttpCall): Promise<HttpAnswer> {
  if (call.signal.aborted) throw abortReason(call.signal);
  const maxBytes = call.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method ?? 'GET',
      signal: call.signal,
      redirect: 'manual',
      ...(call.headers === undefined ? {} : { headers: call.headers }),
      ...(call.body === undefined ? {} : { body: call.body }),
    });
  } catch (error) {
    throw transportFailure(call, error, 'could not complete the request');
  }
  let text: string;
  try {
    text = await readBoundedText(call, response, maxBytes);
  } catch (error) {
    throw transportFailure(call, error, 'connection closed before the answer was complete');
  }
  const upstream = readUpstreamLimits(response.headers, (call.now ?? Date.now)());
  return { status: response.status, headers: response.headers, text, upstream };
}

/**
 * Maps a status to the error a provider throws for it; `undefined` for 2xx.
 * 401/403 → `auth`, 400/422 → `invalid-input`, 429 → `rate-limited` (with `retryAfterMs`
 * from Retry-After), redirects, 5xx and anything else → `http`.
 *
 * @example
 * const error = classifyStatus('abuseipdb', 429, headers, Date.now());
 * // ProviderResponseError { kind: 'rate-limited', status: 429, retryAfterMs: 60000 }
 */
export function classifyStatus(
  provider: string,
  status: number,
  headers: Headers,
  nowMs: number,
): ProviderResponseError | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 401 || status === 403) {
    return new ProviderResponseError('auth', `${provider}: credentials refused (HTTP ${status})`, { status });
  }
  if (status === 400 || status === 422) {
    return new ProviderResponseError('invalid-input', `${provider}: request refused as invalid (HTTP ${status})`, {
      status,
    });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'), nowMs);
    return new ProviderResponseError('rate-limited', `${provider}: rate limited (HTTP 429)`, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 300 && status < 400) {
    return new ProviderResponseError('http', `${provider}: answered with a redirect, which is not followed (HTTP ${status})`, {
      status,
    });
  }
  return new ProviderResponseError('http', `${provider}: answered HTTP ${status}`, { status });
}

/**
 * True when a content type may carry JSON: absent, `…/json`, `…+json`, or `text/plain`
 * (some services label JSON as plain text). HTML — a captive portal, a proxy's error page,
 * a service answering its web page — is not.
 */
export function isJsonContentType(contentType: string | null): boolean {
  if (contentType === null) return true;
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return mediaType === '' || mediaType === 'text/plain' || mediaType.endsWith('/json') || mediaType.endsWith('+json');
}

/**
 * Parses a JSON text; anything else is `ProviderResponseError('malformed')`. The parser's own
 * message is dropped because it quotes the body.
 *
 * @example
 * parseJsonBody('stopforumspam', '{"success":1}'); // { success: 1 }
 */
export function parseJsonBody(provider: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderResponseError('malformed', `${provider}: answer is not valid JSON`);
  }
}

/**
 * Sends one request and returns its JSON body. Non-2xx statuses throw the error
 * {@link classifyStatus} gives; a non-JSON content type or body throws `'malformed'`.
 *
 * @example
 * const { body, upstream } = await httpJson({ provider: 'stopforumspam', url, signal });
 */
export async function httpJson(call: HttpCall): Promise<JsonAnswer> {
  const answer = await httpRequest(call);
  const failure = classifyStatus(call.provider, answer.status, answer.headers, (call.now ?? Date.now)());
  if (failure !== undefined) throw failure;
  if (!isJsonContentType(answer.headers.get('content-type'))) {
    throw new ProviderResponseError('malformed', `${call.provider}: answer is not JSON (wrong content type)`, {
      status: answer.status,
    });
  }
  const body = parseJsonBody(call.provider, answer.text);
  return { status: answer.status, headers: answer.headers, body, upstream: answer.upstream };
}
