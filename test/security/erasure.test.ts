/**
 * Privacy of the cache on a real Redis: keys hashed with the configured secret (shared
 * by instances that share it, private to a process that has none), and an erasure
 * request that removes one subject from every tier of every instance.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Secret, createFormSecurity, engineInternals } from '@formsecurity/core';
import type { FormSecurity, FormSecurityConfig, Provider, Subject } from '@formsecurity/core';
import { capturingLogger } from './support/capture.js';
import { REDIS_URL, connect, dump, keysUnder, removeAll, uniquePrefix } from './support/redis.js';

type RedisClient = Awaited<ReturnType<typeof connect>>;

const ANN: Subject = { ip: '198.51.100.17', email: 'ann.erasure@privacy-test.example' };
const BOB: Subject = { ip: '198.51.100.18', email: 'bob.keeps@privacy-test.example' };

let redis: RedisClient;
const prefixes: string[] = [];
const engines: FormSecurity[] = [];

beforeAll(async () => {
  redis = await connect();
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.allSettled(engines.splice(0).map((engine) => engine.close()));
});

afterAll(async () => {
  for (const prefix of prefixes) await removeAll(redis, prefix);
  await redis.quit();
});

/** A remote reputation service stand-in that counts its calls; its answer depends on IP and e-mail. */
function countingProvider() {
  const calls: Subject[] = [];
  const provider: Provider = {
    name: 'reputation',
    facets: ['ip', 'email'],
    async check(subject) {
      calls.push(subject);
      return { score: 0.1, reasons: [], data: { listed: false } };
    },
  };
  return { provider, calls };
}

async function instance(namespace: string, provider: Provider, extra: Partial<FormSecurityConfig> = {}): Promise<FormSecurity> {
  const engine = createFormSecurity({
    providers: [provider],
    logger: capturingLogger(),
    ...extra,
    // A generous L2 timeout: this suite is about what a purge removes, not about a slow Redis on a busy machine.
    cache: { namespace, l2: { redis: { url: REDIS_URL } }, l2TimeoutMs: 500, ...(extra.cache === false ? {} : extra.cache) },
  } as FormSecurityConfig);
  engines.push(engine);
  await vi.waitFor(() => expect(engineInternals(engine)?.cache?.health().l2).toBe('up'), { timeout: 5_000 });
  return engine;
}

async function redisKeys(prefix: string, minimum: number): Promise<string[]> {
  await vi.waitFor(async () => expect((await keysUnder(redis, prefix)).length).toBeGreaterThanOrEqual(minimum), { timeout: 5_000 });
  return keysUnder(redis, prefix);
}

function newPrefix(suite: string): string {
  const prefix = uniquePrefix(suite);
  prefixes.push(prefix);
  return prefix;
}

describe('erasure: engine.purge({ subject })', () => {
  it('removes one subject from L1 and Redis in every instance, and nothing else', async () => {
    const prefix = newPrefix('erasure');
    const { provider, calls } = countingProvider();
    const shared: Partial<FormSecurityConfig> = { cache: { secret: new Secret('erasure-test-cache-secret-31') } };
    const a = await instance(`${prefix}cache`, provider, shared);
    const b = await instance(`${prefix}cache`, provider, shared);

    await a.evaluate(ANN);
    await a.evaluate(BOB);
    const before = await redisKeys(prefix, 2);
    expect(before).toHaveLength(2);
    // Instances with the same secret share answers: B reads A's from Redis.
    expect((await b.evaluate(ANN)).signals['reputation']?.status).toBe('cached');
    expect((await b.evaluate(BOB)).signals['reputation']?.status).toBe('cached');
    expect(calls).toHaveLength(2);

    const purgedOnB = new Promise<unknown>((resolve) => engineInternals(b)?.cache?.on('purge', resolve));
    const report = await a.purge({ subject: ANN });
    expect(report).toMatchObject({ l2: 'done', l2Removed: 1, broadcast: 'sent' });
    await expect(purgedOnB).resolves.toMatchObject({ scope: 'subject', origin: 'remote', l1Removed: 1 });

    const after = await keysUnder(redis, prefix);
    expect(after).toHaveLength(1);
    // Every tier forgot Ann: both instances ask upstream again; Bob is still cached everywhere.
    expect((await a.evaluate(BOB)).signals['reputation']?.status).toBe('cached');
    expect((await b.evaluate(BOB)).signals['reputation']?.status).toBe('cached');
    expect((await b.evaluate(ANN)).signals['reputation']?.status).toBe('fresh');
    expect(calls).toHaveLength(3);
  });

  it('finds the subject by any one facet, as an erasure request names it', async () => {
    const prefix = newPrefix('erasure-facet');
    const { provider } = countingProvider();
    const engine = await instance(`${prefix}cache`, provider, { cache: { secret: 'erasure-test-cache-secret-32' } });
    await engine.evaluate(ANN);
    await redisKeys(prefix, 1);
    await engine.purge({ subject: { email: ANN.email as string } });
    expect(await keysUnder(redis, prefix)).toEqual([]);
  });

  it('stores only digests: the keys and values never hold the raw subject', async () => {
    const prefix = newPrefix('erasure-raw');
    const { provider } = countingProvider();
    const engine = await instance(`${prefix}cache`, provider, { cache: { secret: 'erasure-test-cache-secret-33' } });
    await engine.evaluate(ANN);
    await redisKeys(prefix, 1);
    const text = JSON.stringify(await dump(redis, prefix));
    expect(text).toContain('reputation');
    for (const raw of [ANN.ip, ANN.email, 'ann.erasure']) expect(text).not.toContain(raw);
  });
});

describe('the cache key secret', () => {
  it('is generated per process with a warning when none is configured, so instances share nothing', async () => {
    vi.stubEnv('FORMSECURITY_CACHE_SECRET', '');
    const prefix = newPrefix('secretless');
    const { provider, calls } = countingProvider();
    const logger = capturingLogger();
    const a = await instance(`${prefix}cache`, provider, { logger });
    const b = await instance(`${prefix}cache`, provider);
    await a.evaluate(ANN);
    await redisKeys(prefix, 1);
    expect((await b.evaluate(ANN)).signals['reputation']?.status).toBe('fresh');
    expect(calls).toHaveLength(2);
    const warning = logger.lines.find((line) => line.level === 'warn' && line.message.includes('no cache secret configured'));
    expect(warning?.message).toMatch(/FORMSECURITY_CACHE_SECRET/);
  });

  it('comes from FORMSECURITY_CACHE_SECRET without a warning, shared by every instance that has it', async () => {
    vi.stubEnv('FORMSECURITY_CACHE_SECRET', 'env-cache-secret-for-erasure-tests');
    const prefix = newPrefix('env-secret');
    const { provider, calls } = countingProvider();
    const logger = capturingLogger();
    const a = await instance(`${prefix}cache`, provider, { logger });
    const b = await instance(`${prefix}cache`, provider);
    await a.evaluate(ANN);
    await redisKeys(prefix, 1);
    expect((await b.evaluate(ANN)).signals['reputation']?.status).toBe('cached');
    expect(calls).toHaveLength(1);
    expect(logger.lines.filter((line) => line.message.includes('cache secret'))).toEqual([]);
  });
});
