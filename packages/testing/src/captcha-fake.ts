/**
 * A loopback siteverify for Cloudflare Turnstile (`POST /turnstile/v0/siteverify`) or
 * hCaptcha (`POST /siteverify`): tokens a test issues verify once, then answer as a
 * duplicate, in each service's own error codes.
 */
import { randomUUID } from 'node:crypto';
import { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
import type { FakeAnswer, FakeHttpServer, FakeRequest, HttpFault } from './fake-http-server.js';

/** The services the fake speaks for. */
export type CaptchaService = 'turnstile' | 'hcaptcha';

/** The secret the fake accepts unless told otherwise. */
export const FAKE_CAPTCHA_SECRET = 'fake-captcha-secret';

/** What a token says once verified; unset fields take the defaults shown. */
export interface CaptchaTokenOptions {
  /** Default `localhost`. */
  readonly hostname?: string;
  /** Turnstile widget action (default none). */
  readonly action?: string;
  /** Turnstile customer data. */
  readonly cdata?: string;
  /** hCaptcha Enterprise risk score, 0..1. */
  readonly score?: number;
  /** The token timed out before it was verified (default false). */
  readonly expired?: boolean;
}

/** Answers only a siteverify service gives. */
export type CaptchaSpecificFault =
  /** `success: false` with these error codes, whatever the token (e.g. `internal-error`). */
  { readonly kind: 'error-codes'; readonly codes: readonly string[] };

/** Every fault the captcha fake can inject. */
export type CaptchaFault = HttpFault | CaptchaSpecificFault;

/** One verification as the fake saw it; the secret is never kept. */
export interface CaptchaVerification {
  readonly token: string;
  readonly remoteip?: string;
  readonly sitekey?: string;
  readonly success: boolean;
  readonly errorCodes: readonly string[];
}

/** A running captcha fake. */
export interface CaptchaFake extends FakeHttpServer<CaptchaFault> {
  readonly service: CaptchaService;
  readonly secret: string;
  /** The path the service answers on (`/turnstile/v0/siteverify` or `/siteverify`). */
  readonly path: string;
  /** A new token, as a widget would put in the form; it verifies once. */
  issueToken(options?: CaptchaTokenOptions): string;
  readonly verifications: readonly CaptchaVerification[];
  /** Forgets tokens, faults, calls and verifications. */
  reset(): void;
}

/** Options of {@link startFakeCaptcha}. */
export interface CaptchaFakeOptions {
  readonly service: CaptchaService;
  readonly port?: number;
  /** Default {@link FAKE_CAPTCHA_SECRET}. */
  readonly secret?: string;
  /** hCaptcha: the site key tokens are issued for; a different `sitekey` gets `sitekey-secret-mismatch`. */
  readonly sitekey?: string;
}

interface IssuedToken {
  readonly options: CaptchaTokenOptions;
  used: boolean;
}

const CODES = {
  turnstile: { duplicate: 'timeout-or-duplicate', expired: 'timeout-or-duplicate' },
  hcaptcha: { duplicate: 'invalid-or-already-seen-response', expired: 'expired-input-response' },
} as const;

/** Reads a form-encoded or (Turnstile) JSON body into string fields. */
function fieldsOf(request: FakeRequest): Map<string, string> {
  const fields = new Map<string, string>();
  if ((request.headers['content-type'] ?? '').includes('application/json')) {
    try {
      const body = JSON.parse(request.body) as unknown;
      if (typeof body === 'object' && body !== null) {
        for (const [key, value] of Object.entries(body)) if (typeof value === 'string') fields.set(key, value);
      }
    } catch {
      // An unreadable body has no fields: it is answered as missing everything.
    }
    return fields;
  }
  for (const [key, value] of new URLSearchParams(request.body)) fields.set(key, value);
  return fields;
}

/**
 * Starts a Turnstile or hCaptcha siteverify fake on 127.0.0.1.
 *
 * @example
 * const fake = await startFakeCaptcha({ service: 'turnstile' });
 * const token = fake.issueToken({ hostname: 'forms.example.org' });
 * const provider = turnstile({ secret: fake.secret, baseUrl: fake.url });
 * await provider.check({ fields: { 'cf-turnstile-response': token } }, { signal }); // passed
 * await provider.check({ fields: { 'cf-turnstile-response': token } }, { signal }); // failed: timeout-or-duplicate
 * await fake.close();
 */
export async function startFakeCaptcha(options: CaptchaFakeOptions): Promise<CaptchaFake> {
  const { service } = options;
  const secret = options.secret ?? FAKE_CAPTCHA_SECRET;
  const path = service === 'turnstile' ? '/turnstile/v0/siteverify' : '/siteverify';
  const tokens = new Map<string, IssuedToken>();
  const verifications: CaptchaVerification[] = [];

  function failure(codes: readonly string[]): FakeAnswer {
    return jsonAnswer(service === 'turnstile' ? { success: false, 'error-codes': codes, messages: [] } : { success: false, 'error-codes': codes });
  }

  function success(token: IssuedToken): FakeAnswer {
    const { hostname = 'localhost', action, cdata, score } = token.options;
    const challenge_ts = new Date().toISOString();
    if (service === 'turnstile') {
      return jsonAnswer({ success: true, 'error-codes': [], challenge_ts, hostname, action: action ?? '', cdata: cdata ?? '', metadata: {} });
    }
    return jsonAnswer({ success: true, challenge_ts, hostname, credit: false, ...(score === undefined ? {} : { score }) });
  }

  /** The error codes for a request, or `undefined` when the token verifies. */
  function verify(fields: Map<string, string>, token: IssuedToken | undefined): string[] | undefined {
    const given = fields.get('secret');
    if (!given) return ['missing-input-secret'];
    if (given !== secret) return ['invalid-input-secret'];
    if (!fields.get('response')) return ['missing-input-response'];
    const sitekey = fields.get('sitekey');
    if (service === 'hcaptcha' && options.sitekey !== undefined && sitekey !== undefined && sitekey !== options.sitekey) {
      return ['sitekey-secret-mismatch'];
    }
    if (token === undefined) return ['invalid-input-response'];
    if (token.used) return [CODES[service].duplicate];
    token.used = true;
    if (token.options.expired === true) return [CODES[service].expired];
    return undefined;
  }

  function handle(request: FakeRequest, fault: CaptchaSpecificFault | undefined): FakeAnswer {
    if (request.url.pathname !== path) return jsonAnswer({ error: 'not found' }, 404);
    if (request.method !== 'POST') return jsonAnswer({ error: 'method not allowed' }, 405);
    const fields = fieldsOf(request);
    const responseToken = fields.get('response') ?? '';
    const issued = tokens.get(responseToken);
    const codes = fault?.kind === 'error-codes' ? [...fault.codes] : verify(fields, issued);
    const remoteip = fields.get('remoteip');
    const sitekey = fields.get('sitekey');
    verifications.push({
      token: responseToken,
      success: codes === undefined,
      errorCodes: codes ?? [],
      ...(remoteip === undefined ? {} : { remoteip }),
      ...(sitekey === undefined ? {} : { sitekey }),
    });
    return codes === undefined ? success(issued as IssuedToken) : failure(codes);
  }

  const server = await startFakeHttpServer<CaptchaSpecificFault>({
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    ...server,
    service,
    secret,
    path,
    verifications,
    issueToken(tokenOptions = {}) {
      const { score } = tokenOptions;
      if (score !== undefined && !(Number.isFinite(score) && score >= 0 && score <= 1)) throw new RangeError('fake: score must be from 0 to 1');
      const token = `fake-${service}-${randomUUID()}`;
      tokens.set(token, { options: { ...tokenOptions }, used: false });
      return token;
    },
    reset() {
      tokens.clear();
      verifications.length = 0;
      server.faults.clear();
      server.calls.clear();
    },
  };
}
