/**
 * Reading an IPQualityScore proxy-detection answer defensively, and turning it into a
 * score. The service answers HTTP 200 for failures too, with `success: false` and a
 * message; the message is matched to classify the failure, never repeated (it may quote
 * the request). Field names are from the service's documentation, not all confirmed: every
 * flag is optional.
 */
import { ProviderResponseError } from '@formsecurity/core';
import type { ProviderResult } from '@formsecurity/core';
import { definedFields, isJsonObject, jsonFields } from '../json-fields.js';

/** What IPQualityScore says about one address (the fields FormSecurity keeps). */
export interface IpQualityScoreAnswer {
  /** 0..100; IPQualityScore calls 75+ suspicious and 90+ high risk. */
  readonly fraudScore: number;
  readonly proxy?: boolean;
  readonly vpn?: boolean;
  readonly tor?: boolean;
  readonly activeVpn?: boolean;
  readonly activeTor?: boolean;
  /** Abuse (chargebacks, compromised devices, fake sign-ups) seen from this address recently. */
  readonly recentAbuse?: boolean;
  /** Bot activity seen from this address. */
  readonly botStatus?: boolean;
  readonly isCrawler?: boolean;
  readonly mobile?: boolean;
  /** e.g. `Residential`, `Data Center`, `Corporate`. */
  readonly connectionType?: string;
  /** `none`, `low`, `medium`, `high`. */
  readonly abuseVelocity?: string;
  readonly countryCode?: string;
  readonly isp?: string;
  readonly asn?: number;
  readonly organization?: string;
}

// Matched in this order: a key problem often also says "invalid", a rate problem "exceeded".
const FAILURES: readonly [RegExp, 'auth' | 'quota-exceeded' | 'rate-limited' | 'invalid-input'][] = [
  [/\bkey\b|unauthori[sz]ed|account (?:is )?(?:disabled|suspended)/i, 'auth'],
  [/too many requests|per second|rate limit/i, 'rate-limited'],
  [/credits?|quota|upgrade|exceeded your|insufficient/i, 'quota-exceeded'],
  [/\bip\b|address/i, 'invalid-input'],
];

/**
 * Classifies a `success: false` message: key problems → `auth`, request rates →
 * `rate-limited`, credits and quotas → `quota-exceeded`, a refused address → `invalid-input`,
 * anything else → `http`.
 *
 * @example
 * ipQualityScoreFailureKind('Invalid or unauthorized key. Please check the API key and try again.'); // 'auth'
 * ipQualityScoreFailureKind('You have insufficient credits to make this query.'); // 'quota-exceeded'
 */
export function ipQualityScoreFailureKind(message: string): ProviderResponseError['kind'] {
  return FAILURES.find(([pattern]) => pattern.test(message))?.[1] ?? 'http';
}

const KIND_TEXT: Readonly<Record<string, string>> = {
  auth: 'key refused',
  'quota-exceeded': 'out of credits',
  'rate-limited': 'rate limited',
  'invalid-input': 'address refused as invalid',
  http: 'the service reported a failure',
};

/**
 * Parses a proxy-detection body. `success: false` becomes the `ProviderResponseError` its
 * message calls for; a body without `success: true` and a `fraud_score` is `malformed`.
 *
 * @example
 * parseIpQualityScoreAnswer({ success: true, fraud_score: 88, proxy: true, vpn: true, tor: false });
 * // { fraudScore: 88, proxy: true, vpn: true, tor: false }
 */
export function parseIpQualityScoreAnswer(body: unknown, provider = 'ipqualityscore'): IpQualityScoreAnswer {
  const read = jsonFields(provider);
  if (!isJsonObject(body)) throw read.malformed('answer is not a JSON object');
  if (body['success'] === false) {
    const message = typeof body['message'] === 'string' ? body['message'] : '';
    const kind = ipQualityScoreFailureKind(message);
    throw new ProviderResponseError(kind, `${provider}: ${KIND_TEXT[kind] ?? KIND_TEXT['http']} (success false)`);
  }
  if (body['success'] !== true) throw read.malformed('answer has no success flag');
  return {
    fraudScore: read.number(body, 'fraud_score', { min: 0, max: 100 }),
    ...definedFields({
      proxy: read.optionalBoolean(body, 'proxy'),
      vpn: read.optionalBoolean(body, 'vpn'),
      tor: read.optionalBoolean(body, 'tor'),
      activeVpn: read.optionalBoolean(body, 'active_vpn'),
      activeTor: read.optionalBoolean(body, 'active_tor'),
      recentAbuse: read.optionalBoolean(body, 'recent_abuse'),
      botStatus: read.optionalBoolean(body, 'bot_status'),
      isCrawler: read.optionalBoolean(body, 'is_crawler'),
      mobile: read.optionalBoolean(body, 'mobile'),
      connectionType: read.optionalString(body, 'connection_type'),
      abuseVelocity: read.optionalString(body, 'abuse_velocity'),
      countryCode: read.optionalString(body, 'country_code'),
      isp: read.optionalString(body, 'ISP'),
      asn: read.optionalNumber(body, 'ASN', { min: 0 }),
      organization: read.optionalString(body, 'organization'),
    }),
  };
}

const FLAG_REASONS: readonly [keyof IpQualityScoreAnswer, string][] = [
  ['proxy', 'proxy'],
  ['vpn', 'VPN'],
  ['tor', 'Tor'],
  ['recentAbuse', 'recent abuse'],
  ['botStatus', 'bot activity'],
];

/**
 * Scores a parsed answer: `fraud_score / 100`. The proxy / VPN / Tor / recent-abuse / bot
 * flags are named in the reason and kept in `data`; IPQualityScore already weighs them into
 * the fraud score, so they add nothing on top.
 *
 * @example
 * scoreIpQualityScoreAnswer({ fraudScore: 88, vpn: true, recentAbuse: true });
 * // { score: 0.88, reasons: ['IPQualityScore fraud score 88 (VPN, recent abuse)'], data: {...} }
 */
export function scoreIpQualityScoreAnswer(answer: IpQualityScoreAnswer): ProviderResult {
  const flags = FLAG_REASONS.filter(([field]) => answer[field] === true).map(([, label]) => label);
  const reasons =
    answer.fraudScore > 0 || flags.length > 0
      ? [`IPQualityScore fraud score ${Math.round(answer.fraudScore)}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`]
      : [];
  return { score: answer.fraudScore / 100, reasons, data: { ...answer } };
}
