/**
 * Provider keys given as Secrets: checked at start-up like strings (without quoting them),
 * and read on every request, so a key rotated in the vault is used by the next call
 * without rebuilding the provider or restarting the application.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, createFormSecurity, isConfigurationError, secretFrom } from '@formsecurity/core';
import { abuseIpdb, akismet, hcaptcha, ipQualityScore, maxmindWebService, moderation, turnstile } from '@formsecurity/providers';
import { startFakeAbuseIpdb } from '@formsecurity/testing';
import type { AbuseIpdbFake } from '@formsecurity/testing';
import { capturingLogger } from './support/capture.js';

let fake: AbuseIpdbFake;

beforeAll(async () => {
  fake = await startFakeAbuseIpdb({ key: 'rotation-key-version-2' });
});

afterAll(async () => {
  await fake.close();
});

function issuesOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    if (isConfigurationError(error)) return error.issues.join('\n');
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('provider keys as Secrets', () => {
  it('a key rotated in the vault is sent by the next request, without a rebuild', async () => {
    let vault = 'rotation-key-version-1';
    const key = await secretFrom(() => vault, { label: 'vault:abuseipdb' });
    const logger = capturingLogger();
    const engine = createFormSecurity({ providers: [abuseIpdb({ key, baseUrl: fake.url })], cache: false, logger, policy: { budgetMs: 2_000 } });

    const before = await engine.evaluate({ ip: '203.0.113.40' });
    expect(before.signals['abuseipdb']).toMatchObject({ status: 'error' });
    expect(before.signals['abuseipdb']?.reasons.join()).toMatch(/credentials refused/);

    vault = 'rotation-key-version-2';
    await expect(key.refresh()).resolves.toBe(true);
    const after = await engine.evaluate({ ip: '203.0.113.41' });
    expect(after.signals['abuseipdb']).toMatchObject({ status: 'fresh' });

    const everything = `${logger.text()}${JSON.stringify([before, after])}`;
    expect(everything).not.toContain('rotation-key-version');
    await engine.close();
  });

  it.each<[string, () => unknown, RegExp]>([
    ['abuseIpdb', () => abuseIpdb({ key: new Secret('  ') }), /^abuseIpdb\.key: required/],
    ['ipQualityScore', () => ipQualityScore({ key: new Secret('has/slash-secret') }), /^ipQualityScore\.key: must not contain/],
    ['maxmind', () => maxmindWebService({ accountId: 1, licenseKey: new Secret('') }), /^maxmind\.licenseKey: required/],
    ['akismet', () => akismet({ apiKey: new Secret('has space-secret'), blog: 'https://example.org' }), /^akismet\.apiKey: expected the API key/],
    ['moderation', () => moderation({ apiKey: new Secret('line\nbreak-secret') }), /^moderation\.apiKey: expected the API key/],
    ['turnstile', () => turnstile({ secret: new Secret('') }), /^turnstile\.secret: expected the secret key/],
    ['hcaptcha', () => hcaptcha({ secret: 42 as never }), /^hcaptcha\.secret: expected the secret key/],
  ])('%s checks a Secret at start-up like a string, quoting nothing', (_, build, message) => {
    const issues = issuesOf(build);
    expect(issues).toMatch(message);
    expect(issues).not.toMatch(/slash-secret|space-secret|break-secret/);
  });
});
