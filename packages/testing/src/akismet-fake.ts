/**
 * A loopback Akismet: answers `POST /1.1/comment-check` (and submit-spam, submit-ham,
 * verify-key) form-encoded, in the service's plain-text format, from spam rules a test
 * sets, with fault injection.
 */
import { startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';

/** The key the fake accepts unless told otherwise. */
export const FAKE_AKISMET_KEY = 'fake-akismet-key';

/** A submission the fake calls spam; every criterion given must match. */
export interface AkismetSpamRule {
  /** `user_ip`, exactly. */
  readonly ip?: string;
  /** `comment_author_email`, case-insensitive. */
  readonly email?: string;
  /** `comment_author`, exactly. */
  readonly author?: string;
  /** A piece of `comment_content`, case-insensitive. */
  readonly contentIncludes?: string;
  /** Also send `X-akismet-pro-tip: discard` (default false). */
  readonly discard?: boolean;
}

/** Answers only Akismet gives. */
export type AkismetSpecificFault =
  /** Body `invalid`, with `X-akismet-debug-help` (default `Invalid API key.`). */
  | { readonly kind: 'invalid'; readonly help?: string }
  /** Body `true` whatever was sent, optionally with the discard pro-tip. */
  | { readonly kind: 'spam'; readonly discard?: boolean }
  /** Body `false` with `X-akismet-alert-code` / `X-akismet-alert-msg`, as on an account over its plan. */
  | { readonly kind: 'alert'; readonly code: number; readonly message?: string };

/** Every fault the Akismet fake can inject. */
export type AkismetFault = HttpFault | AkismetSpecificFault;

/** The Akismet endpoints the fake serves. */
export type AkismetEndpoint = 'comment-check' | 'submit-spam' | 'submit-ham' | 'verify-key';

/** One call as the fake saw it: the form fields, `api_key` shown as `[redacted]`. */
export interface AkismetSubmission {
  readonly endpoint: AkismetEndpoint;
  readonly fields: Readonly<Record<string, string>>;
}

/** A running Akismet fake. */
export interface AkismetFake extends FakeHttpServer<AkismetFault> {
  /** The key it accepts. */
  readonly apiKey: string;
  /** Every form received, in order (api_key redacted). */
  readonly submissions: readonly AkismetSubmission[];
  markSpam(rule: AkismetSpamRule): void;
  /** Forgets every rule, fault, recorded call and submission. */
  reset(): void;
}

/** Options of {@link startFakeAkismet}. */
export interface AkismetFakeOptions {
  readonly port?: number;
  /** Default {@link FAKE_AKISMET_KEY}. */
  readonly apiKey?: string;
}

const ENDPOINTS: ReadonlySet<string> = new Set(['comment-check', 'submit-spam', 'submit-ham', 'verify-key']);
const GUARANTEED_SPAM_AUTHOR = 'akismet-guaranteed-spam';
const THANKS = 'Thanks for making the web a better place.';

function text(body: string, headers: Readonly<Record<string, string>> = {}): FakeAnswer {
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}

function invalid(help: string): FakeAnswer {
  return text('invalid', { 'x-akismet-debug-help': help });
}

function matches(rule: AkismetSpamRule, form: URLSearchParams): boolean {
  const email = form.get('comment_author_email')?.toLowerCase();
  const content = form.get('comment_content')?.toLowerCase() ?? '';
  return (
    (rule.ip === undefined || form.get('user_ip') === rule.ip) &&
    (rule.email === undefined || email === rule.email.toLowerCase()) &&
    (rule.author === undefined || form.get('comment_author') === rule.author) &&
    (rule.contentIncludes === undefined || content.includes(rule.contentIncludes.toLowerCase()))
  );
}

/**
 * Starts an Akismet fake on 127.0.0.1. A wrong or missing `api_key` gets `invalid` with
 * `X-akismet-debug-help`; so does a missing `blog` or (for comment-check) `user_ip`.
 * `comment_author=akismet-guaranteed-spam` is always spam, as on the real service.
 *
 * @example
 * const fake = await startFakeAkismet();
 * fake.markSpam({ contentIncludes: 'casino', discard: true });
 * const provider = akismet({ apiKey: fake.apiKey, blog: 'https://example.org', baseUrl: fake.url });
 * fake.faults.inject({ kind: 'invalid', help: 'Empty "user_ip" value' }, { times: 1 });
 * await fake.close();
 */
export async function startFakeAkismet(options: AkismetFakeOptions = {}): Promise<AkismetFake> {
  const apiKey = options.apiKey ?? FAKE_AKISMET_KEY;
  const rules: AkismetSpamRule[] = [];
  const submissions: AkismetSubmission[] = [];

  function record(endpoint: AkismetEndpoint, form: URLSearchParams): void {
    const fields: Record<string, string> = {};
    for (const [key, value] of form) fields[key] = key === 'api_key' ? '[redacted]' : value;
    submissions.push({ endpoint, fields });
  }

  function commentCheck(form: URLSearchParams, fault: AkismetSpecificFault | undefined): FakeAnswer {
    if (fault?.kind === 'spam') return text('true', fault.discard === true ? { 'x-akismet-pro-tip': 'discard' } : {});
    if (fault?.kind === 'alert') {
      return text('false', { 'x-akismet-alert-code': String(fault.code), 'x-akismet-alert-msg': fault.message ?? 'Usage limit exceeded' });
    }
    if (form.get('comment_author') === GUARANTEED_SPAM_AUTHOR) return text('true');
    const rule = rules.find((candidate) => matches(candidate, form));
    if (rule === undefined) return text('false');
    return text('true', rule.discard === true ? { 'x-akismet-pro-tip': 'discard' } : {});
  }

  function handle(request: FakeRequest, fault: AkismetSpecificFault | undefined): FakeAnswer {
    const endpoint = request.url.pathname.replace(/^\/1\.1\//, '');
    if (!request.url.pathname.startsWith('/1.1/') || !ENDPOINTS.has(endpoint)) return { status: 404, body: 'not found' };
    if (request.method !== 'POST') return { status: 405, body: 'method not allowed' };
    const form = new URLSearchParams(request.body);
    record(endpoint as AkismetEndpoint, form);
    if (endpoint === 'verify-key') return text(form.get('key') === apiKey || form.get('api_key') === apiKey ? 'valid' : 'invalid');
    if (fault?.kind === 'invalid') return invalid(fault.help ?? 'Invalid API key.');
    if (form.get('api_key') !== apiKey) return invalid('Invalid API key. Check your key at https://akismet.com/account/');
    if (!form.get('blog')) return invalid('Empty "blog" value');
    if (endpoint === 'comment-check') {
      if (!form.get('user_ip')) return invalid('Empty "user_ip" value');
      return commentCheck(form, fault);
    }
    return text(THANKS);
  }

  const server = await startFakeHttpServer<AkismetSpecificFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    apiKey,
    submissions,
    markSpam(rule) {
      rules.push({ ...rule });
    },
    reset() {
      rules.length = 0;
      submissions.length = 0;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
