import { describe, expect, it } from 'vitest';
import { createFormSecurity, isConfigurationError } from '../../src/index.js';
import type { FormSecurityConfig, Logger, Provider } from '../../src/index.js';
import { Secret, checkConfig, validateConfig, validateGateOptions } from '../../src/config/index.js';

const provider = (name: string, extra: Partial<Provider> = {}): Provider => ({
  name,
  async check() {
    return { score: 0 };
  },
  ...extra,
});

/** The issues of the ConfigurationError that building an engine from `config` throws. */
function issuesOf(config: unknown): readonly string[] {
  try {
    createFormSecurity(config as FormSecurityConfig);
  } catch (error) {
    if (isConfigurationError(error)) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('engine configuration: one clear message per wrong key', () => {
  it.each<[string, unknown, RegExp]>([
    ['the whole configuration', 'yes', /^\(root\): expected an object, got "yes"$/],
    ['providers', { providers: {} }, /^providers: expected a list, got an object$/],
    ['a provider without check', { providers: [{ name: 'a' }] }, /^providers\[0\]\.check: expected a function check\(subject, \{ signal \}\), got nothing$/],
    ['a provider without name', { providers: [{ check: () => {} }] }, /^providers\[0\]\.name: expected a non-empty string, got nothing$/],
    ['a provider with a blank name', { providers: [provider(' ')] }, /^providers\[0\]\.name: expected a non-empty string, got " "$/],
    ['a provider facet', { providers: [provider('a', { facets: ['ip', 'phone' as never] })] }, /^providers\[0\]\.facets\[1\]: expected one of "ip" \| "email" .*, got "phone"$/],
    ['a provider default weight', { providers: [provider('a', { defaults: { weight: 1.5 } })] }, /^providers\[0\]\.defaults\.weight: expected a number in 0\.\.1, got 1\.5$/],
    ['a provider limit', { providers: [provider('a', { defaults: { limits: { daily: -5 } } })] }, /^providers\[0\]\.defaults\.limits\.daily: expected a positive whole number, got -5$/],
    ['a registration without provider', { providers: [{ provider: undefined, weight: 1 }] }, /^providers\[0\]\.provider: expected an object, got nothing$/],
    ['a registration weight', { providers: [{ provider: provider('a'), weight: 2 }] }, /^providers\[0\]\.weight: expected a number in 0\.\.1, got 2$/],
    ['a registration timeout', { providers: [{ provider: provider('a'), timeoutMs: '3s' }] }, /^providers\[0\]\.timeoutMs: expected a positive number of milliseconds, got "3s"$/],
    ['a bulkhead', { providers: [{ provider: provider('a'), bulkhead: { maxConcurrent: 0 } }] }, /^providers\[0\]\.bulkhead\.maxConcurrent: expected a positive whole number, got 0$/],
    ['a bulkhead of the wrong type', { providers: [{ provider: provider('a'), bulkhead: true }] }, /^providers\[0\]\.bulkhead: expected false or \{ maxConcurrent, maxQueue\? \}, got true$/],
    ['a quota', { providers: [{ provider: provider('a'), quota: { daily: { limit: 0 } } }] }, /^providers\[0\]\.quota\.daily\.limit: expected a positive number, got 0$/],
    ['a cache lifetime', { providers: [{ provider: provider('a'), cache: { ttlMs: -1 } }] }, /^providers\[0\]\.cache\.ttlMs: expected a positive number of milliseconds, got -1$/],
    ['a breaker', { providers: [{ provider: provider('a'), breaker: { slowCallMs: 'slow' } }] }, /^providers\[0\]\.breaker\.slowCallMs: expected a positive number of milliseconds, got "slow"$/],
    ['policy.budgetMs', { policy: { budgetMs: -1 } }, /^policy\.budgetMs: expected milliseconds in \(0, 60000\], got -1$/],
    ['policy.onUnavailable', { policy: { onUnavailable: 'explode' } }, /^policy\.onUnavailable: expected one of "allow" \| "review" \| "challenge" \| "block", got "explode"$/],
    ['policy.enforce', { policy: { enforce: 'yes' } }, /^policy\.enforce: expected true or false, got "yes"$/],
    ['policy.providers', { policy: { providers: 'a' } }, /^policy\.providers: expected a list, got "a"$/],
    ['an unknown provider in policy', { providers: [provider('a')], policy: { require: ['b'] } }, /^policy\.require: unknown provider "b" \(registered: a\)$/],
    ['thresholds out of range', { thresholds: { block: 2 } }, /^thresholds\.block: expected a number in 0\.\.1, got 2$/],
    ['unordered thresholds', { thresholds: { review: 0.9 } }, /^thresholds: expected 0 <= review <= challenge <= block <= 1, got \{"review":0\.9,"challenge":0\.6,"block":0\.85\}$/],
    ['now', { now: 5 }, /^now: expected a function, got 5$/],
    ['clock', { clock: 'Date.now' }, /^clock: expected a function, got "Date\.now"$/],
    ['logger', { logger: console.log }, /^logger: expected a logger with debug, info, warn and error methods, got a function$/],
    ['redis', { redis: 'redis://127.0.0.1' }, /^redis: expected an object, got "redis:\/\/127\.0\.0\.1"$/],
    ['redis.url', { redis: { url: 'http://cache:6379' } }, /^redis\.url: expected a redis:\/\/ or rediss:\/\/ URL, got a string$/],
    ['cache', { cache: 'redis' }, /^cache: expected false or cache options, got "redis"$/],
    ['cache.namespace', { cache: { namespace: 'a b' } }, /^cache\.namespace: expected 1-64 characters of A-Z a-z 0-9 \. _ : -, got "a b"$/],
    ['cache.l1.maxEntries', { cache: { l1: { maxEntries: 0.5 } } }, /^cache\.l1\.maxEntries: expected a positive whole number, got 0\.5$/],
    ['cache.l2.redis.url', { cache: { l2: { redis: { url: 42 } } } }, /^cache\.l2\.redis\.url: expected a redis:\/\/ or rediss:\/\/ URL, got 42$/],
    ['cache.l2', { cache: { l2: 'redis' } }, /^cache\.l2: expected false, \{ memory \}, \{ redis: \{ url \} \}, \{ sqlite: \{ path \} \} or a Keyv instance, got "redis"$/],
    ['quotaStore', { quotaStore: 'memory' }, /^quotaStore: expected a Keyv instance \(an object with get and set\), got "memory"$/],
    ['privacy.sendEmail', { privacy: { sendEmail: 'no' } }, /^privacy\.sendEmail: expected true or false, got "no"$/],
    ['privacy.sharedFields', { privacy: { sharedFields: [1] } }, /^privacy\.sharedFields\[0\]: expected a string, got 1$/],
  ])('%s', (_, config, message) => {
    const issues = issuesOf(config);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(message);
  });

  it('lists every problem at once, sorted by key', () => {
    const issues = issuesOf({
      providers: [provider('a'), provider('a'), { provider: provider('b'), weight: 2 }],
      thresholds: { review: 0.9, block: 0.5 },
      policy: { budgetMs: 0, require: ['nobody'] },
      cache: { l2TimeoutMs: -1 },
    });
    expect(issues).toEqual([
      'cache.l2TimeoutMs: expected a positive number of milliseconds, got -1',
      'policy.budgetMs: expected milliseconds in (0, 60000], got 0',
      'policy.require: unknown provider "nobody" (registered: a, b)',
      'providers[1].name: "a" is registered twice',
      'providers[2].weight: expected a number in 0..1, got 2',
      'thresholds: expected 0 <= review <= challenge <= block <= 1, got {"review":0.9,"challenge":0.6,"block":0.5}',
    ]);
  });

  it('never quotes a secret or a Redis URL back, even a wrong one', () => {
    const config = {
      redis: { url: 'https://user:hunter2-password@cache.internal:6379' },
      cache: { secret: 'short-hunter2' },
    };
    const text = issuesOf(config).join('\n');
    expect(text).toMatch(/cache\.secret: expected at least 16 bytes/);
    expect(text).toMatch(/redis\.url: expected a redis:\/\//);
    expect(text).not.toContain('hunter2');
  });

  it('accepts a Secret as the cache key and hashes with its value', async () => {
    const engine = createFormSecurity({
      providers: [provider('remote')],
      cache: { secret: new Secret('a-cache-secret-of-enough-bytes') as never },
      logger: silent(),
    });
    await expect(engine.evaluate({ ip: '203.0.113.7' })).resolves.toMatchObject({ decision: 'allow' });
    await engine.close();
  });

  it('logs unknown keys as warnings rather than failing, so a typo shows at start-up', async () => {
    const { logger, warnings } = recording();
    const engine = createFormSecurity({ polcy: { budgetMs: 5 }, cache: false, logger } as unknown as FormSecurityConfig);
    expect(warnings).toEqual(['polcy: unknown option (ignored; check its spelling)']);
    await engine.close();
  });

  it('checkConfig reports without throwing; validateConfig throws the same issues', () => {
    const bad = { policy: { budgetMs: 'soon' } };
    expect(checkConfig(bad).errors).toEqual(['policy.budgetMs: expected milliseconds in (0, 60000], got "soon"']);
    expect(() => validateConfig(bad)).toThrow(/policy\.budgetMs/);
    expect(validateConfig({ providers: [provider('a')] }).providers).toHaveLength(1);
  });

  it('quotes at most a short prefix of a long value', () => {
    const [issue] = checkConfig({ policy: { onUnavailable: 'x'.repeat(5_000) } }).errors;
    expect(issue?.length).toBeLessThan(200);
    expect(issue).toMatch(/\(5000 characters\)$/);
  });
});

describe('gate options', () => {
  it.each<[string, unknown, RegExp]>([
    ['subject.trustProxy', { subject: { trustProxy: 'yes' } }, /^subject\.trustProxy: expected false, a whole number of hops 0\.\.64 or a list of CIDR ranges, got "yes"$/],
    ['a trusted range', { subject: { trustProxy: ['10.0.0.0/8', '10.0.0.0/33'] } }, /^subject\.trustProxy\[1\]: expected an IP address, a CIDR range, "loopback" or "private", got "10\.0\.0\.0\/33"$/],
    ['too many hops', { subject: { trustProxy: 65 } }, /^subject\.trustProxy: expected false, a whole number of hops/],
    ['subject.forwardedHeader', { subject: { forwardedHeader: 'x-real-ip' } }, /^subject\.forwardedHeader: expected one of "x-forwarded-for" \| "forwarded", got "x-real-ip"$/],
    ['subject.maxFieldLength', { subject: { maxFieldLength: 0 } }, /^subject\.maxFieldLength: expected a positive whole number, got 0$/],
    ['subject.keepFields', { subject: { keepFields: 'cf-turnstile-response' } }, /^subject\.keepFields: expected a list, got "cf-turnstile-response"$/],
    ['subject.fields.email', { subject: { fields: { email: 'email' } } }, /^subject\.fields\.email: expected a list, got "email"$/],
    ['methods', { methods: ['POST', ''] }, /^methods\[1\]: expected a non-empty string, got ""$/],
    ['engine', { engine: {} }, /^engine: expected an engine built by createFormSecurity, got an object$/],
    ['config inside the gate', { config: { policy: { budgetMs: -5 } } }, /^config\.policy\.budgetMs: expected milliseconds in \(0, 60000\], got -5$/],
    ['a route key', { enforce: 1 }, /^enforce: expected true or false, got 1$/],
  ])('%s', (_, options, message) => {
    try {
      validateGateOptions(options);
      expect.unreachable();
    } catch (error) {
      expect(isConfigurationError(error)).toBe(true);
      const issues = (error as { issues: string[] }).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(message);
    }
  });

  it('lets adapters keep their own keys, and returns misspelt nested keys as warnings', () => {
    expect(validateGateOptions({ enforce: true, onBlock: () => {}, subject: { trustProxy: ['loopback'] } })).toEqual([]);
    expect(validateGateOptions({ subject: { trustProxies: 1 } })).toEqual(['subject.trustProxies: unknown option (ignored; check its spelling)']);
  });
});

function silent(): Logger {
  return { debug() {}, info() {}, warn() {}, error() {} };
}

function recording(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { logger: { ...silent(), warn: (message: string) => void warnings.push(message) }, warnings };
}
