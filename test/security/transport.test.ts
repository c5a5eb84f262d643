/**
 * Transport: every provider talks HTTPS unless told otherwise; plain HTTP only by an
 * explicit option (ip-api's free tier, or `allowInsecureHttp`) or to loopback, and each
 * such connection is named in a warning at start-up. Endpoints come from configuration
 * only: nothing a visitor sends and nothing an upstream answers (a redirect) moves them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, checkConfig, createFormSecurity, endpointsOf, isConfigurationError } from '@formsecurity/core';
import type { Provider } from '@formsecurity/core';
import {
  abuseIpdb,
  akismet,
  hcaptcha,
  ipApi,
  ipQualityScore,
  maxmindWebService,
  moderation,
  resolveEndpoint,
  stopForumSpam,
  turnstile,
} from '@formsecurity/providers';
import { capturingLogger } from './support/capture.js';

const KEY = new Secret('transport-test-key-value');

function issuesOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (isConfigurationError(error)) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('HTTPS by default, endpoints from configuration only', () => {
  it.each<[string, string, () => Provider]>([
    ['stopforumspam', 'https://api.stopforumspam.org', () => stopForumSpam()],
    ['abuseipdb', 'https://api.abuseipdb.com', () => abuseIpdb({ key: KEY })],
    ['akismet', 'https://rest.akismet.com', () => akismet({ apiKey: KEY, blog: 'https://example.org' })],
    ['moderation', 'https://api.openai.com', () => moderation({ apiKey: KEY })],
    ['turnstile', 'https://challenges.cloudflare.com', () => turnstile({ secret: KEY })],
    ['hcaptcha', 'https://api.hcaptcha.com', () => hcaptcha({ secret: KEY })],
    ['ipqualityscore', 'https://www.ipqualityscore.com', () => ipQualityScore({ key: KEY })],
    ['maxmind', 'https://geoip.maxmind.com', () => maxmindWebService({ accountId: 1, licenseKey: KEY })],
    ['maxmind geolite', 'https://geolite.info', () => maxmindWebService({ accountId: 1, licenseKey: KEY, edition: 'geolite' })],
    ['ip-api pro', 'https://pro.ip-api.com', () => ipApi({ key: KEY })],
  ])('%s sends to %s unless configured otherwise', (_, origin, build) => {
    expect(endpointsOf(build()).map((url) => url.origin)).toEqual([origin]);
  });

  it('a configured base URL is the only place requests go', () => {
    const provider = abuseIpdb({ key: KEY, baseUrl: 'https://proxy.internal.example/abuse/' });
    expect(endpointsOf(provider).map((url) => url.href)).toEqual(['https://proxy.internal.example/abuse/']);
  });

  it.each<[string, string, RegExp]>([
    ['plain HTTP to another host', 'http://api.example.org', /plain http:\/\/ is only accepted for loopback hosts/],
    ['a file URL', 'file:///etc/passwd', /expected an https:\/\/ URL/],
    ['another scheme', 'gopher://example.org', /expected an https:\/\/ URL/],
    ['credentials in the URL', 'https://admin:hunter2@api.example.org', /must not contain credentials/],
    ['a query string', 'https://api.example.org/?token=hunter2', /must not contain a query or fragment/],
    ['not a URL', 'api.example.org', /expected an absolute https:\/\/ URL/],
  ])('refuses %s at start-up, naming the option and quoting nothing', (_, url, message) => {
    const issues = issuesOf(() => resolveEndpoint(url, { option: 'abuseIpdb.baseUrl' }));
    expect(issues.join('\n')).toMatch(message);
    expect(issues.join('\n')).toMatch(/^abuseIpdb\.baseUrl: /);
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('never sends a key over plain HTTP to another host, even when asked', () => {
    expect(issuesOf(() => ipApi({ key: KEY, baseUrl: 'http://ip-api.com' })).join()).toMatch(/a key is never sent over plain http/);
    expect(issuesOf(() => ipApi({})).join()).toMatch(/acceptPlainHttp/);
  });
});

describe('start-up warnings for every unencrypted connection', () => {
  it('names a provider on plain HTTP by opt-in, and one on loopback', async () => {
    const logger = capturingLogger();
    const engine = createFormSecurity({
      providers: [
        ipApi({ acceptPlainHttp: true }),
        stopForumSpam({ baseUrl: 'http://127.0.0.1:9' }),
        akismet({ apiKey: KEY, blog: 'https://example.org', baseUrl: 'http://spam-filter.internal', allowInsecureHttp: true }),
        abuseIpdb({ key: KEY }),
      ],
      cache: false,
      logger,
    });
    const warnings = logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    expect(warnings).toEqual([
      "provider ip-api: plain HTTP to http://ip-api.com — visitors' data crosses the network unencrypted (allowed by its options)",
      // The redacting logger hides the address (and its port) itself.
      'provider stopforumspam: plain HTTP to http://[ip] (loopback: stays on this machine; use https:// in production)',
      "provider akismet: plain HTTP to http://spam-filter.internal — visitors' data crosses the network unencrypted (allowed by its options)",
    ]);
    expect(logger.text()).not.toContain('transport-test-key-value');
    await engine.close();
  });

  it('names Redis without TLS across a network, never its password', () => {
    const { warnings } = checkConfig({ redis: { url: 'redis://:hunter2@cache.internal:6379/0' }, cache: { l2: { redis: { url: 'redis://cache2.internal:6380' } } } });
    expect(warnings).toEqual([
      'redis: redis:// to cache.internal:6379 is not encrypted; use rediss:// (TLS) across a network',
      'redis: redis:// to cache2.internal:6380 is not encrypted; use rediss:// (TLS) across a network',
    ]);
    expect(checkConfig({ redis: { url: 'rediss://:hunter2@cache.internal:6380' } }).warnings).toEqual([]);
    expect(checkConfig({ redis: { url: 'redis://127.0.0.1:6379' } }).warnings).toEqual([]);
  });
});

describe('an upstream cannot move a request elsewhere', () => {
  let elsewhere: Server;
  let redirector: Server;
  let elsewhereHits = 0;
  let redirectorHits = 0;

  const listen = (server: Server) =>
    new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

  beforeAll(async () => {
    elsewhere = createServer((_req, res) => {
      elsewhereHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":1}');
    });
    const target = await listen(elsewhere);
    redirector = createServer((_req, res) => {
      redirectorHits++;
      res.writeHead(302, { location: `${target}/api?stolen=1` }).end();
    });
    await listen(redirector);
  });

  afterAll(async () => {
    await Promise.all([elsewhere, redirector].map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('a redirect is an error of that provider, never followed', async () => {
    const base = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    const engine = createFormSecurity({ providers: [stopForumSpam({ baseUrl: base })], cache: false, logger: capturingLogger() });
    const verdict = await engine.evaluate({ ip: '203.0.113.7' });
    expect(verdict.signals['stopforumspam']).toMatchObject({ status: 'error' });
    expect(verdict.signals['stopforumspam']?.reasons.join()).toMatch(/redirect, which is not followed/);
    expect(redirectorHits).toBe(1);
    expect(elsewhereHits).toBe(0);
    await engine.close();
  });
});
