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
