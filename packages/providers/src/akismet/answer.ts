/**
 * Reading Akismet's plain-text answers. `comment-check` says `true` (spam) or `false` (ham);
 * `invalid` means the key or the request was refused, with the reason in
 * `X-akismet-debug-help`. That header is read to classify the failure but never repeated:
 * it may quote what was sent.
 */
import { ProviderResponseError } from '@formsecurity/core';
import { classifyStatus } from '../http.js';
import type { HttpAnswer } from '../http.js';

/** What `comment-check` concluded. */
export interface AkismetVerdict {
  readonly spam: boolean;
  /** `X-akismet-pro-tip: discard`: blatant spam, safe to drop without review. */
  readonly discard: boolean;
  /** `X-akismet-alert-code`, when Akismet attaches an account alert (e.g. usage over the plan). */
  readonly alertCode?: number;
}

/** The error an `invalid` answer stands for: the subject's fault when it names `user_ip`, else the configuration's (key or blog). */
function invalidAnswer(provider: string, answer: HttpAnswer): ProviderResponseError {
  const help = answer.headers.get('x-akismet-debug-help') ?? '';
  if (/user_ip/i.test(help)) {
    return new ProviderResponseError('invalid-input', `${provider}: the service refused the request (missing or bad user_ip)`, {
      status: answer.status,
    });
  }
  return new ProviderResponseError('auth', `${provider}: the service refused the request (check the API key and blog URL)`, {
    status: answer.status,
  });
}

function failureOf(provider: string, answer: HttpAnswer, nowMs: number): ProviderResponseError | undefined {
  const statusFailure = classifyStatus(provider, answer.status, answer.headers, nowMs);
  if (statusFailure !== undefined) return statusFailure;
  if (answer.text.trim() === 'invalid') return invalidAnswer(provider, answer);
  return undefined;
}

/**
 * Parses a `comment-check` answer. A non-2xx status is classified as usual; `invalid` is
 * `auth` (bad key or blog) or `invalid-input` (bad user_ip); any body other than `true` /
 * `false` is `malformed`.
 *
 * @example
 * parseCommentCheck('akismet', answer, Date.now()); // { spam: true, discard: true }
 */
export function parseCommentCheck(provider: string, answer: HttpAnswer, nowMs: number): AkismetVerdict {
  const failure = failureOf(provider, answer, nowMs);
  if (failure !== undefined) throw failure;
  const text = answer.text.trim();
  if (text !== 'true' && text !== 'false') {
    throw new ProviderResponseError('malformed', `${provider}: answer is neither true nor false`, { status: answer.status });
  }
  const spam = text === 'true';
  const discard = spam && (answer.headers.get('x-akismet-pro-tip') ?? '').trim().toLowerCase() === 'discard';
  const alert = Number(answer.headers.get('x-akismet-alert-code') ?? Number.NaN);
  return { spam, discard, ...(Number.isInteger(alert) && alert > 0 ? { alertCode: alert } : {}) };
}

/**
 * Checks a `submit-spam` / `submit-ham` answer: any 2xx other than `invalid` is accepted
 * (Akismet thanks you in prose, which is not worth parsing).
 *
 * @example
 * checkSubmission('akismet', await httpRequest({ provider: 'akismet', url, method: 'POST', body, signal }), Date.now());
 */
export function checkSubmission(provider: string, answer: HttpAnswer, nowMs: number): void {
  const failure = failureOf(provider, answer, nowMs);
  if (failure !== undefined) throw failure;
}
