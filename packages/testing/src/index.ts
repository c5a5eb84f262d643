/**
 * @formsecurity/testing — loopback fakes of the providers' services, with fault injection,
 * for tests and demos. Every fake is a real HTTP server on 127.0.0.1.
 *
 * @example
 * import { startFakeStopForumSpam } from '@formsecurity/testing';
 * import { stopForumSpam } from '@formsecurity/providers';
 *
 * const fake = await startFakeStopForumSpam();
 * fake.list('ip', '203.0.113.7', { confidence: 90, frequency: 3 });
 * const provider = stopForumSpam({ baseUrl: fake.url });
 * await fake.close();
 */
export { jsonAnswer, startFakeHttpServer } from './fake-http-server.js';
export type {
  CallLog,
  FakeAnswer,
  FakeHandler,
  FakeHttpServer,
  FakeHttpServerOptions,
  FakeRequest,
  FaultControl,
  HttpFault,
  RecordedRequest,
  RequestOutcome,
} from './fake-http-server.js';
export { startFakeStopForumSpam } from './stopforumspam-fake.js';
export type {
  StopForumSpamApiErrorFault,
  StopForumSpamFake,
  StopForumSpamFakeFacet,
  StopForumSpamFakeOptions,
  StopForumSpamFault,
  StopForumSpamListing,
} from './stopforumspam-fake.js';
export { startFakeAbuseIpdb } from './abuseipdb-fake.js';
export type { AbuseIpdbApiErrorFault, AbuseIpdbFake, AbuseIpdbFakeOptions, AbuseIpdbFault, AbuseIpdbListing, AbuseIpdbReport } from './abuseipdb-fake.js';
export { IP_API_FAKE_DEFAULT_LOCATION, startFakeIpApi } from './ipapi-fake.js';
export type { IpApiFailFault, IpApiFake, IpApiFakeLocation, IpApiFakeOptions, IpApiFault } from './ipapi-fake.js';
export { startFakeMaxmind } from './maxmind-fake.js';
export type { MaxmindApiErrorFault, MaxmindFake, MaxmindFakeOptions, MaxmindFakeRecord, MaxmindFakeTraits, MaxmindFault } from './maxmind-fake.js';
export { startFakeIpQualityScore } from './ipqualityscore-fake.js';
export type { IpQualityScoreApiErrorFault, IpQualityScoreFake, IpQualityScoreFakeOptions, IpQualityScoreFakeRecord, IpQualityScoreFault } from './ipqualityscore-fake.js';
export { MmdbTyped, encodeMmdbValue, mmdbNumber } from './mmdb/encode.js';
export type { MmdbNumericType, MmdbValue } from './mmdb/encode.js';
export { buildMmdb } from './mmdb/write.js';
export type { MmdbNetwork, MmdbOptions } from './mmdb/write.js';
export { buildAnonymousIpDatabase, buildCountryDatabase } from './mmdb/geoip.js';
export type { AnonymousNetwork, CountryNetwork, GeoipDatabaseOptions } from './mmdb/geoip.js';
export { addressClass } from './special-ranges.js';
export type { AddressClass } from './special-ranges.js';
export { startFakeDns } from './dns-fake.js';
export type { DnsFake, DnsFakeOptions, DnsFault, DnsQueryLog, DnsQueryOutcome, RecordedDnsQuery } from './dns-fake.js';
export { DnsRcode, DnsType, decodeDnsAnswer, encodeDnsAnswer, encodeDnsQuery, parseDnsQuery } from './dns-message.js';
export type { DnsAnswerSpec, DnsQuery } from './dns-message.js';
export { FAKE_AKISMET_KEY, startFakeAkismet } from './akismet-fake.js';
export type { AkismetEndpoint, AkismetFake, AkismetFakeOptions, AkismetFault, AkismetSpamRule, AkismetSpecificFault, AkismetSubmission } from './akismet-fake.js';
export { FAKE_MODERATION_KEY, MODERATION_CATEGORIES, startFakeModeration } from './moderation-fake.js';
export type { ModerationFake, ModerationFakeOptions, ModerationFault, ModerationInput, ModerationSpecificFault } from './moderation-fake.js';
export { FAKE_CAPTCHA_SECRET, startFakeCaptcha } from './captcha-fake.js';
export type { CaptchaFake, CaptchaFakeOptions, CaptchaFault, CaptchaService, CaptchaSpecificFault, CaptchaTokenOptions, CaptchaVerification } from './captcha-fake.js';
export { startFakeProviders } from './start-fake-providers.js';
export type { FakeProviderOptions, FakeProviders, FakeProvidersOptions, HttpFakeName, OutageMode } from './start-fake-providers.js';
