/**
 * Turnstile and hCaptcha: verifying the token a challenge widget put in the form.
 * Use them on routes whose forms can carry a widget — typically shown again to a visitor
 * whose previous submission got the decision `challenge` (see {@link isChallengePassed}).
 */
import type { AsyncProvider, Verdict } from '@formsecurity/core';
import { challengeProvider } from './siteverify.js';
import type { ChallengeOptions, ChallengeService } from './siteverify.js';

/** Options of {@link turnstile}. */
export interface TurnstileOptions extends ChallengeOptions {
  /** The widget `action` the token must carry; another one fails the challenge. */
  readonly action?: string;
}

/** Options of {@link hcaptcha}. */
export interface HcaptchaOptions extends ChallengeOptions {
  /** Your site key; sent as `sitekey` so hCaptcha checks the token was issued for it. */
  readonly sitekey?: string;
}

/**
 * Creates the Cloudflare Turnstile provider (name `turnstile`, facets `['fields']`).
 *
 * Reads the token from `subject.fields['cf-turnstile-response']` (or `field`) and sends
 * `POST https://challenges.cloudflare.com/turnstile/v0/siteverify` with `secret`, `response`
 * and `remoteip`. No token → score 0, `data.challenge: 'absent'`, no call. Success → score 0,
 * reason "Turnstile challenge passed", `data: { challenge: 'passed', hostname, challengeTs,
 * action }`. A bad, spent (`timeout-or-duplicate`) or expired token, a wrong hostname or
 * action → `failedScore` (1), `data: { challenge: 'failed', errorCodes }`. A refused secret
 * (`invalid-input-secret`, `missing-input-secret`) → `ProviderResponseError('auth')`;
 * `internal-error` → `http`. Never cache its answers: a token verifies once.
 *
 * @example
 * const provider = turnstile({ secret: process.env.TURNSTILE_SECRET!, hostnames: ['forms.example.org'] });
 */
export function turnstile(options: TurnstileOptions): AsyncProvider {
  const service: ChallengeService = {
    name: 'turnstile',
    label: 'Turnstile',
    option: 'turnstile',
    defaultBaseUrl: 'https://challenges.cloudflare.com',
    path: '/turnstile/v0/siteverify',
    defaultField: 'cf-turnstile-response',
    ...(options.action === undefined
      ? {}
      : { rejectSuccess: (answer) => (answer.action === options.action ? undefined : 'solved for another action') }),
  };
  return challengeProvider(service, options);
}

/**
 * Creates the hCaptcha provider (name `hcaptcha`, facets `['fields']`): as {@link turnstile},
 * with the token from `h-captcha-response`, `POST https://api.hcaptcha.com/siteverify`, and
 * `sitekey` sent when configured. An Enterprise risk `score` is passed on as
 * `data.riskScore` without changing the result.
 *
 * @example
 * const provider = hcaptcha({ secret: process.env.HCAPTCHA_SECRET!, sitekey: process.env.HCAPTCHA_SITEKEY });
 */
export function hcaptcha(options: HcaptchaOptions): AsyncProvider {
  return challengeProvider(
    {
      name: 'hcaptcha',
      label: 'hCaptcha',
      option: 'hcaptcha',
      defaultBaseUrl: 'https://api.hcaptcha.com',
      path: '/siteverify',
      defaultField: 'h-captcha-response',
      ...(options.sitekey === undefined ? {} : { extraFields: { sitekey: options.sitekey } }),
    },
    options,
  );
}

/**
 * True when the verdict holds a fresh, passed challenge from `provider`. The engine's score
 * only ever rises (a passed challenge adds nothing), so an application that answered
 * `challenge` lets the resubmission through with this check rather than by the decision.
 *
 * @example
 * const verdict = req.formSecurity;
 * if (verdict.decision === 'challenge' && !isChallengePassed(verdict)) return res.render('form', { showTurnstile: true });
 * if (verdict.decision === 'block') return res.status(403).end();
 */
export function isChallengePassed(verdict: Pick<Verdict, 'signals'>, provider = 'turnstile'): boolean {
  const signal = verdict.signals[provider];
  return signal?.status === 'fresh' && signal.data?.['challenge'] === 'passed';
}
