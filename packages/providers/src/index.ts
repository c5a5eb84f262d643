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
export { stopForumSpam, stopForumSpamEmailHash, STOP_FORUM_SPAM_DEFAULTS } from './stopforumspam/provider.js';
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
export type { HttpAnswer, HttpCall, JsonAnswer } from './http.js';
export { endpointUrl, isLoopbackHost, resolveEndpoint } from './endpoint.js';
export type { EndpointRules } from './endpoint.js';
export { isEmptyLimits, parseRateLimitReset, parseRetryAfter, readUpstreamLimits } from './upstream-limits.js';
