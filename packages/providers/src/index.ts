/**
 * @formsecurity/providers — adapters for external reputation services and local lists.
 * Providers hold no caching, retry or breaker code: the core's engine wraps every call.
 *
 * @example
 * import { createFormSecurity } from '@formsecurity/core';
 * import { cidrBlocklist, stopForumSpam } from '@formsecurity/providers';
 *
 * const engine = createFormSecurity({
 *   providers: [stopForumSpam(), cidrBlocklist({ file: './blocked-networks.txt' })],
 * });
 */
export { stopForumSpam, stopForumSpamEmailHash, STOP_FORUM_SPAM_DEFAULTS, STOP_FORUM_SPAM_LIMITS } from './stopforumspam/provider.js';
export type { StopForumSpamOptions } from './stopforumspam/provider.js';
export { parseStopForumSpamAnswer, scoreStopForumSpamAnswer } from './stopforumspam/answer.js';
export type { StopForumSpamAnswer, StopForumSpamFacet, StopForumSpamRecord } from './stopforumspam/answer.js';
export { cidrBlocklist, parseCidrListText } from './cidr-blocklist.js';
export type { CidrBlocklistOptions } from './cidr-blocklist.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  classifyStatus,
  httpJson,
  httpRequest,
  isJsonContentType,
  parseJsonBody,
} from './http.js';
export type { HttpAnswer, HttpCall, JsonAnswer, ResponseHeaders } from './http.js';
export { declareEndpoints, endpointUrl, isLoopbackHost, resolveEndpoint } from './endpoint.js';
export type { KeyInput } from './provider-options.js';
export type { EndpointRules } from './endpoint.js';
export { isEmptyLimits, parseRateLimitReset, parseRetryAfter, readUpstreamLimits } from './upstream-limits.js';
export { ABUSEIPDB_DEFAULTS, ABUSEIPDB_LIMITS, ABUSEIPDB_REPORT_COMMENT, abuseIpdb } from './abuseipdb/provider.js';
export type { AbuseIpdbOptions, AbuseIpdbProvider, AbuseIpdbReportKind } from './abuseipdb/provider.js';
export { isRecentDuplicateReport, parseAbuseIpdbCheck, scoreAbuseIpdbCheck } from './abuseipdb/answer.js';
export type { AbuseIpdbCheck } from './abuseipdb/answer.js';
export { IP_API_DEFAULTS, IP_API_LIMITS, ipApi } from './ipapi/provider.js';
export type { IpApiOptions } from './ipapi/provider.js';
export { IP_API_FIELDS, parseIpApiAnswer, readIpApiLimits } from './ipapi/answer.js';
export type { IpApiAnswer, IpApiLocation } from './ipapi/answer.js';
export { MAXMIND_DEFAULTS, MAXMIND_GEOLITE_LIMITS, maxmindWebService } from './maxmind/web-service.js';
export type { MaxmindService, MaxmindWebServiceOptions } from './maxmind/web-service.js';
export { maxmindDatabase } from './maxmind/database.js';
export type { MaxmindDatabaseOptions, MaxmindDatabaseProvider, MaxmindReader } from './maxmind/database.js';
export { parseMaxmindRecord, scoreMaxmindFacts } from './maxmind/record.js';
export type { MaxmindFacts } from './maxmind/record.js';
export { IP_QUALITY_SCORE_DEFAULTS, IP_QUALITY_SCORE_LIMITS, ipQualityScore } from './ipqualityscore/provider.js';
export type { IpQualityScoreOptions } from './ipqualityscore/provider.js';
export { ipQualityScoreFailureKind, parseIpQualityScoreAnswer, scoreIpQualityScoreAnswer } from './ipqualityscore/answer.js';
export type { IpQualityScoreAnswer } from './ipqualityscore/answer.js';
export { GEOLOCATION_SCORES, createGeolocationPolicy, geolocationPolicyIssues } from './geolocation-policy.js';
export type { GeolocationFacts, GeolocationPolicy, GeolocationPolicyOptions, GeolocationScores, GeolocationVerdict } from './geolocation-policy.js';
export { dnsbl, DNSBL_DEFAULTS } from './dnsbl/provider.js';
export type { DnsblOptions } from './dnsbl/provider.js';
export { readZoneAnswer, spamhausZen, SPAMHAUS_LIMITS } from './dnsbl/zones.js';
export type { DnsblListing, DnsblZone, SpamhausZenOptions, ZoneVerdict } from './dnsbl/zones.js';
export { dnsblQueryName, reversedIpLabels } from './dnsbl/query-name.js';
export { akismet, AKISMET_DEFAULTS, AKISMET_LIMITS } from './akismet/provider.js';
export type { AkismetOptions, AkismetProvider } from './akismet/provider.js';
export { parseCommentCheck } from './akismet/answer.js';
export type { AkismetVerdict } from './akismet/answer.js';
export { moderation, MODERATION_DEFAULTS } from './moderation/provider.js';
export type { ModerationOptions } from './moderation/provider.js';
export { parseModerationAnswer } from './moderation/answer.js';
export type { ModerationResult } from './moderation/answer.js';
export { parseResetDuration, readModerationLimits } from './moderation/rate-limits.js';
export { hcaptcha, isChallengePassed, turnstile } from './captcha/providers.js';
export type { HcaptchaOptions, TurnstileOptions } from './captcha/providers.js';
export { challengeProvider } from './captcha/siteverify.js';
export type { ChallengeOptions, ChallengeService } from './captcha/siteverify.js';
export { classifySiteverifyFailure, parseSiteverify } from './captcha/answer.js';
export type { SiteverifyAnswer, SiteverifyFailure } from './captcha/answer.js';
export { honeypot } from './local/honeypot.js';
export type { HoneypotOptions } from './local/honeypot.js';
export { issueFormTimestamp, minimumFillTime, verifyFormTimestamp } from './local/fill-time.js';
export type { FillTimeOutcome, IssueFormTimestampOptions, MinimumFillTimeOptions } from './local/fill-time.js';
