import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isConfigurationError } from '../../src/index.js';
import { ENV_VARIABLES, configFromEnv, isSecret } from '../../src/config/index.js';

const DOCS = new URL('../../../../docs/configuration.md', import.meta.url);

function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    configFromEnv(env);
  } catch (error) {
    if (isConfigurationError(error)) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('configFromEnv', () => {
  it('reads nothing from an empty environment', () => {
    expect(configFromEnv({})).toEqual({ engine: {}, subject: {}, keys: {} });
  });

  it('puts every engine variable where it belongs', () => {
    const loaded = configFromEnv({
      FORMSECURITY_CACHE_SECRET: 'env-cache-secret-0123456789',
      FORMSECURITY_REDIS_URL: 'redis://127.0.0.1:6379/2',
      FORMSECURITY_BUDGET_MS: '150',
      FORMSECURITY_ON_UNAVAILABLE: 'challenge',
      FORMSECURITY_LOG_LEVEL: 'info',
      FORMSECURITY_TRUST_PROXY: 'loopback, 10.0.0.0/8',
      FORMSECURITY_FORWARDED_HEADER: 'forwarded',
      FORMSECURITY_SEND_CONTENT: 'false',
      FORMSECURITY_SEND_EMAIL: 'no',
      FORMSECURITY_SEND_USERNAME: 'true',
    });
    expect(loaded.engine.redis).toEqual({ url: 'redis://127.0.0.1:6379/2' });
    expect(loaded.engine.policy).toEqual({ budgetMs: 150, onUnavailable: 'challenge' });
    expect(loaded.engine.privacy).toEqual({ sendContent: false, sendEmail: false, sendUsername: true });
    expect(loaded.subject).toEqual({ trustProxy: ['loopback', '10.0.0.0/8'], forwardedHeader: 'forwarded' });
    expect(loaded.logLevel).toBe('info');
    const secret = loaded.engine.cache === false ? undefined : loaded.engine.cache?.secret;
    expect(isSecret(secret)).toBe(true);
    expect(isSecret(secret) && secret.reveal()).toBe('env-cache-secret-0123456789');
  });

  it.each([
    ['false', false],
    ['none', false],
    ['2', 2],
    ['private', ['private']],
  ])('reads FORMSECURITY_TRUST_PROXY=%j as %j', (text, expected) => {
    expect(configFromEnv({ FORMSECURITY_TRUST_PROXY: text }).subject.trustProxy).toEqual(expected);
  });

  it('wraps every provider key in a Secret labelled with its variable', () => {
    const env = {
      ABUSEIPDB_API_KEY: 'env-abuseipdb-key',
      AKISMET_API_KEY: 'env-akismet-key',
      OPENAI_API_KEY: 'env-openai-key',
      IPQS_API_KEY: 'env-ipqs-key',
      IPAPI_KEY: 'env-ipapi-key',
      MAXMIND_ACCOUNT_ID: '123456',
      MAXMIND_LICENSE_KEY: 'env-maxmind-license',
      TURNSTILE_SECRET: 'env-turnstile-secret',
      HCAPTCHA_SECRET: 'env-hcaptcha-secret',
      SPAMHAUS_DQS_KEY: 'envdqskey',
    };
    const { keys } = configFromEnv(env);
    expect(keys.abuseIpdb?.reveal()).toBe('env-abuseipdb-key');
    expect(keys.abuseIpdb?.label).toBe('ABUSEIPDB_API_KEY');
    expect(keys.akismet?.reveal()).toBe('env-akismet-key');
    expect(keys.moderation?.label).toBe('OPENAI_API_KEY');
    expect(keys.ipQualityScore?.reveal()).toBe('env-ipqs-key');
    expect(keys.ipApi?.reveal()).toBe('env-ipapi-key');
    expect(keys.maxmind?.accountId).toBe('123456');
    expect(keys.maxmind?.licenseKey.label).toBe('MAXMIND_LICENSE_KEY');
    expect(keys.turnstile?.reveal()).toBe('env-turnstile-secret');
    expect(keys.hcaptcha?.reveal()).toBe('env-hcaptcha-secret');
    expect(keys.spamhausDqs?.reveal()).toBe('envdqskey');
    const printed = `${JSON.stringify(keys)} ${inspect(keys, { depth: 5 })}`;
    for (const value of Object.values(env)) if (value !== '123456') expect(printed).not.toContain(value);
  });

  it('treats an empty variable as unset', () => {
    expect(configFromEnv({ ABUSEIPDB_API_KEY: '', FORMSECURITY_BUDGET_MS: '  ' })).toEqual({ engine: {}, subject: {}, keys: {} });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ FORMSECURITY_BUDGET_MS: 'soon' }, /^FORMSECURITY_BUDGET_MS \(policy\.budgetMs\): expected milliseconds in \(0, 60000\], got "soon"$/],
    [{ FORMSECURITY_BUDGET_MS: '0' }, /^FORMSECURITY_BUDGET_MS \(policy\.budgetMs\): expected milliseconds in \(0, 60000\], got 0$/],
    [{ FORMSECURITY_ON_UNAVAILABLE: 'deny' }, /^FORMSECURITY_ON_UNAVAILABLE \(policy\.onUnavailable\): expected one of "allow" \| "review" \| "challenge" \| "block", got "deny"$/],
    [{ FORMSECURITY_LOG_LEVEL: 'loud' }, /^FORMSECURITY_LOG_LEVEL \(logLevel\): expected one of "debug" \| "info" \| "warn" \| "error" \| "silent", got "loud"$/],
    [{ FORMSECURITY_TRUST_PROXY: 'loopback,10.0.0.0/40' }, /^FORMSECURITY_TRUST_PROXY \(subject\.trustProxy\)\[1\]: expected an IP address, a CIDR range, "loopback" or "private", got "10\.0\.0\.0\/40"$/],
    [{ FORMSECURITY_TRUST_PROXY: '99' }, /^FORMSECURITY_TRUST_PROXY \(subject\.trustProxy\): expected false, a whole number of hops 0\.\.64/],
    [{ FORMSECURITY_FORWARDED_HEADER: 'x-real-ip' }, /^FORMSECURITY_FORWARDED_HEADER \(subject\.forwardedHeader\): expected one of/],
    [{ FORMSECURITY_SEND_EMAIL: 'maybe' }, /^FORMSECURITY_SEND_EMAIL \(privacy\.sendEmail\): expected true or false, got "maybe"$/],
    [{ MAXMIND_ACCOUNT_ID: '123' }, /^MAXMIND_ACCOUNT_ID and MAXMIND_LICENSE_KEY: expected both or neither$/],
    [{ MAXMIND_ACCOUNT_ID: 'acct', MAXMIND_LICENSE_KEY: 'lk-secret-value' }, /^MAXMIND_ACCOUNT_ID \(keys\.maxmind\.accountId\): expected the numeric MaxMind account id, got "acct"$/],
  ])('names the variable: %j', (env, message) => {
    const issues = issuesOf(env);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(message);
  });

  it('never quotes a secret variable, even a wrong one', () => {
    const issues = issuesOf({
      FORMSECURITY_CACHE_SECRET: 'short-hunter2',
      FORMSECURITY_REDIS_URL: 'https://user:hunter2@cache:6379',
      ABUSEIPDB_API_KEY: 'hunter2\nX-Injected: 1',
      FORMSECURITY_BUDGET_MS: '-1',
    });
    expect(issues).toHaveLength(4);
    expect(issues.join('\n')).toMatch(/^FORMSECURITY_CACHE_SECRET \(cache\.secret\): expected at least 16 bytes/m);
    expect(issues.join('\n')).toMatch(/^FORMSECURITY_REDIS_URL \(redis\.url\): expected a redis:\/\/ or rediss:\/\/ URL, got a string$/m);
    expect(issues.join('\n')).toMatch(/^ABUSEIPDB_API_KEY \(keys\.abuseIpdb\): expected a non-empty string without line breaks, or a Secret, got a string$/m);
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('is documented: every variable has a row in docs/configuration.md', () => {
    const docs = readFileSync(DOCS, 'utf8');
    for (const variable of ENV_VARIABLES) {
      expect(docs, variable.name).toMatch(new RegExp(`^\\| \`${variable.name}\` \\| \`${variable.setting.replace(/\./g, '\\.')}\` \\|`, 'm'));
    }
  });
});
