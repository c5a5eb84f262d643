/**
 * The one way providers speak HTTP: `node:http` / `node:https` over keep-alive agents,
 * bound to the caller's AbortSignal, a bounded body read, and every failure turned into a
 * classified `ProviderResponseError`. No caching, retry or breaker here: the core wraps
 * each call in those.
 *
 * Why not the global fetch: measured on the bench machine, undici's fetch costs about
 * 900–1250 µs of CPU per upstream call against 375–475 µs for `request` with a keep-alive
 * agent, and under 10 concurrent cold submissions its bursts held the event loop long
 * enough to make the engine's deadline timers fire late.
 *
 * Error messages carry the provider name, the status and a fixed description only —
 * never the URL (queries carry subject data), a header value or the body (both may echo
 * secrets or the request).
 */
import { Agent as HttpAgent, request as sendHttp } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as sendHttps } from 'node:https';
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

/**
 * An answer's headers, read by name in any case; repeated headers come joined with `, `.
 * A WHATWG `Headers` satisfies it too, so tests and callers may pass one.
 */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** An answer whatever its status, with the body read (within the cap) as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly text: string;
  readonly upstream: UpstreamLimits;
}

/** A 2xx answer whose body parsed as JSON. */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: unknown;
  readonly upstream: UpstreamLimits;
}

/** Node's parsed headers behind `get`: Node has already lower-cased the names. */
class NodeResponseHeaders implements ResponseHeaders {
  readonly #headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
  }

  get(name: string): string | null {
    const value = this.#headers[name.toLowerCase()];
    if (value === undefined) return null;
    return typeof value === 'string' ? value : value.join(', ');
  }
}

// Idle sockets are reused most recent first (the least likely to have been closed by the
// server) and dropped after 5 s idle, or just before the server's `Keep-Alive: timeout`
// hint, as Node's own global agent does: reusing a socket the server is closing would
// fail the call with ECONNRESET. This timeout only ever closes idle sockets, never one
// carrying a request. Own agents, so an application's changes to the global ones do not
// reach provider calls.
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 5_000 } as const;
const HTTP = { send: sendHttp, agent: new HttpAgent(AGENT_OPTIONS) };
const HTTPS = { send: sendHttps, agent: new HttpsAgent(AGENT_OPTIONS) };

// fetch sent these when the caller did not; some services refuse a request without a user agent.
const DEFAULT_HEADERS: Readonly<Record<string, string>> = { accept: '*/*', 'user-agent': 'node' };
// The content types fetch gave a body the caller did not label (AbuseIPDB's report relies on the form one).
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';
const TEXT_CONTENT_TYPE = 'text/plain;charset=UTF-8';
// Not streaming, so one decoder serves every call; like fetch's `text()` it drops a BOM.
const UTF8 = new TextDecoder();

const REQUEST_FAILED = 'could not complete the request';
const ANSWER_CUT_OFF = 'connection closed before the answer was complete';

// Node's error codes (ECONNRESET, ECONNREFUSED, ...) are fixed tokens and help an operator;
// anything else in an error may quote the address or the request, so it is dropped.
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

/** What an abort rejects with: the signal's own reason, as fetch did. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Turns whatever the request or the answer failed with into an abort, or a `network` error. */
function transportFailure(call: HttpCall, error: unknown, description: string): unknown {
  if (call.signal.aborted) return abortReason(call.signal);
  if (isFormSecurityError(error)) return error;
  const code = errorCodeOf(error);
  return new ProviderResponseError('network', `${call.provider}: ${description}${code ? ` (${code})` : ''}`);
}

function tooLarge(call: HttpCall, maxBytes: number): ProviderResponseError {
  return new ProviderResponseError('malformed', `${call.provider}: answer larger than ${maxBytes} bytes`);
}

/** The headers sent: fetch's defaults, the caller's (names lower-cased), and the body's type and length. */
function requestHeaders(call: HttpCall, body: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
  if (body !== undefined) {
    headers['content-type'] ??= call.body instanceof URLSearchParams ? FORM_CONTENT_TYPE : TEXT_CONTENT_TYPE;
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return headers;
}

/**
 * Sends the request and reads the answer up to `maxBytes`. Any failure destroys the request
 * and with it the socket, so a half-read answer never goes back to the agent's pool. The
 * signal is Node's: an abort destroys the request, which lands here as an error.
 */
function exchange(call: HttpCall, request: ClientRequest, body: string | undefined, maxBytes: number) {
  return new Promise<{ response: IncomingMessage; text: string }>((resolve, reject) => {
    let description = REQUEST_FAILED;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(transportFailure(call, error, description));
    };
    request.on('error', fail);
    request.on('response', (response) => {
      description = ANSWER_CUT_OFF;
      response.on('error', fail);
      // Node reports a cut-off answer as an error first; this catches a close that does not.
      response.on('close', () => {
        if (!response.complete) fail(new Error('answer cut off'));
      });
      // A missing or unreadable length is NaN, which compares false.
      if (Number(response.headers['content-length']) > maxBytes) return fail(tooLarge(call, maxBytes));
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total > maxBytes) fail(tooLarge(call, maxBytes));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ response, text: UTF8.decode(Buffer.concat(chunks, total)) });
      });
    });
    request.end(body);
  });
}

/**
 * Used to load fetch's implementation (undici), whose first use blocked the event loop for
 * tens of milliseconds. `node:http` and `node:https` load with this module, so there is
 * nothing left to warm up; kept so existing callers still compile.
 */
export function warmUpHttp(): void {
  // Nothing to do: see above.
}

/**
 * Sends one request and reads the body (up to the cap) whatever the status. Use it when a
 * provider must read error bodies itself; otherwise use {@link httpJson}.
 *
 * Rejects with the signal's reason when aborted, with `ProviderResponseError('network')`
 * when the connection fails or closes mid-answer, and with `'malformed'` when the body is
 * over the cap. Redirects are not followed (an endpoint comes only from configuration):
 * a 3xx comes back as an answer. Only `http:` and `https:` URLs are supported.
 *
 * @example
 * const answer = await httpRequest({ provider: 'akismet', url, method: 'POST', body: form, signal });
 * if (answer.text === 'invalid') throw new ProviderResponseError('auth', 'akismet: key rejected');
 */
export async function httpRequest(call: HttpCall): Promise<HttpAnswer> {
  if (call.signal.aborted) throw abortReason(call.signal);
  const transport = call.url.protocol === 'https:' ? HTTPS : call.url.protocol === 'http:' ? HTTP : undefined;
  if (transport === undefined) {
    // resolveEndpoint refuses other schemes at configuration; this guards direct callers.
    throw new ProviderResponseError('network', `${call.provider}: ${REQUEST_FAILED} (only http: and https: URLs are supported)`);
  }
  const body = call.body?.toString();
  const options: RequestOptions = {
    method: call.method ?? 'GET',
    headers: requestHeaders(call, body),
    agent: transport.agent,
    signal: call.signal,
  };
  let request: ClientRequest;
  try {
    // Throws at once on a header value Node refuses (e.g. a key with a line break).
    request = transport.send(call.url, options);
  } catch (error) {
    throw transportFailure(call, error, REQUEST_FAILED);
  }
  const { response, text } = await exchange(call, request, body, call.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const headers = new NodeResponseHeaders(response.headers);
  const upstream = readUpstreamLimits(headers, (call.now ?? Date.now)());
  // A client-side answer always has a status; 0 only satisfies the type.
  return { status: response.statusCode ?? 0, headers, text, upstream };
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
  headers: ResponseHeaders,
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
