import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createFormSecurity, createSubjectExtractor, isConfigurationError } from '../../src/index.js';
import type { Provider } from '../../src/index.js';
import { loadConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function issuesOf(promise: Promise<unknown>): Promise<readonly string[]> {
  try {
    await promise;
  } catch (error) {
    if (isConfigurationError(error)) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

const SETTINGS = {
  redis: { url: 'redis://127.0.0.1:6379' },
  cache: { secret: 'file-cache-secret-0123456789', namespace: 'fs-file', l1: { maxEntries: 500 } },
  policy: { budgetMs: 80, onUnavailable: 'review' },
  thresholds: { review: 0.4 },
  privacy: { sendContent: false },
  subject: { trustProxy: 1, keepFields: ['cf-turnstile-response'] },
  logLevel: 'warn',
  keys: { abuseIpdb: 'file-abuseipdb-key', maxmind: { accountId: 42, licenseKey: 'file-maxmind-license' } },
};

describe('loadConfig', () => {
  it('reads a JSON file into the pieces, with keys as Secrets', async () => {
    const path = file('full.json', SETTINGS);
    const loaded = await loadConfig(path, { env: false });
    expect(loaded.engine.policy).toEqual({ budgetMs: 80, onUnavailable: 'review' });
    expect(loaded.engine.privacy).toEqual({ sendContent: false });
    expect(loaded.subject).toEqual({ trustProxy: 1, keepFields: ['cf-turnstile-response'] });
    expect(loaded.logLevel).toBe('warn');
    expect(loaded.keys.abuseIpdb?.reveal()).toBe('file-abuseipdb-key');
    expect(loaded.keys.abuseIpdb?.label).toBe(`${path} keys.abuseIpdb`);
    expect(loaded.keys.maxmind).toMatchObject({ accountId: '42' });
    expect(loaded.keys.maxmind?.licenseKey.reveal()).toBe('file-maxmind-license');
    expect(JSON.stringify(loaded)).not.toMatch(/file-(abuseipdb|maxmind|cache)/);
  });

  it('accepts a file: URL', async () => {
    const loaded = await loadConfig(pathToFileURL(file('url.json', { policy: { budgetMs: 70 } })), { env: false });
    expect(loaded.engine.policy).toEqual({ budgetMs: 70 });
  });

  it('lays the environment over the file, key by key', async () => {
    const path = file('layered.json', SETTINGS);
    const loaded = await loadConfig(path, {
      env: { FORMSECURITY_BUDGET_MS: '120', ABUSEIPDB_API_KEY: 'env-abuseipdb-key', FORMSECURITY_SEND_EMAIL: 'false' },
    });
    expect(loaded.engine.policy).toEqual({ budgetMs: 120, onUnavailable: 'review' });
    expect(loaded.engine.privacy).toEqual({ sendContent: false, sendEmail: false });
    expect(loaded.keys.abuseIpdb?.reveal()).toBe('env-abuseipdb-key');
    expect(loaded.keys.abuseIpdb?.label).toBe('ABUSEIPDB_API_KEY');
    expect(loaded.keys.maxmind?.licenseKey.reveal()).toBe('file-maxmind-license');
  });

  it('takes settings from a function, sync or async (a vault)', async () => {
    const sync = await loadConfig(() => ({ policy: { budgetMs: 60 } }), { env: false });
    const fromVault = await loadConfig(async () => ({ keys: { turnstile: await Promise.resolve('vault-turnstile-secret') } }), { env: false });
    const plain = await loadConfig({ thresholds: { block: 0.9 } }, { env: false });
    expect(sync.engine.policy).toEqual({ budgetMs: 60 });
    expect(fromVault.keys.turnstile?.reveal()).toBe('vault-turnstile-secret');
    expect(plain.engine.thresholds).toEqual({ block: 0.9 });
  });

  it('gives pieces that build a working engine and extractor', async () => {
    const loaded = await loadConfig(file('working.json', SETTINGS), { env: false });
    const seen: string[] = [];
    const remote: Provider = {
      name: 'remote',
      async check(subject) {
        seen.push(JSON.stringify(subject));
        return { score: 0 };
      },
    };
    const engine = createFormSecurity({ ...loaded.engine, redis: undefined, cache: { ...loaded.engine.cache, l2: false }, providers: [remote], logger: { debug() {}, info() {}, warn() {}, error() {} } } as never);
    const extract = createSubjectExtractor(loaded.subject);
    const subject = extract({ remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' }, body: { message: 'hello there', email: 'a@example.org' } });
    const verdict = await engine.evaluate(subject);
    expect(verdict.decision).toBe('allow');
    expect(subject.ip).toBe('203.0.113.9');
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toContain('hello there');
    await engine.close();
  });

  it('names every wrong key of the file and of the environment at once, the file by its path', async () => {
    const path = file('wrong.json', { policy: { budgetMs: 'soon' }, cache: { secret: 'short' }, subject: { trustProxy: true }, polcy: {} });
    const issues = await issuesOf(loadConfig(path, { env: { FORMSECURITY_LOG_LEVEL: 'loud' } }));
    expect(issues).toEqual([
      `${path}: cache.secret: expected at least 16 bytes (a string, bytes or a Secret), got a string`,
      `${path}: polcy: unknown option`,
      `${path}: policy.budgetMs: expected milliseconds in (0, 60000], got "soon"`,
      `${path}: subject.trustProxy: expected false, a whole number of hops 0..64 or a list of CIDR ranges, got true`,
      'environment: logLevel: expected one of "debug" | "info" | "warn" | "error" | "silent", got "loud"',
    ]);
  });

  it('says a file is not JSON without quoting it (it may hold keys)', async () => {
    const path = file('broken.json', '{ "keys": { "abuseIpdb": "file-secret-in-broken-json" ');
    const issues = await issuesOf(loadConfig(path, { env: false }));
    expect(issues).toEqual([`config file ${path}: not valid JSON`]);
  });

  it('says a file cannot be read', async () => {
    const issues = await issuesOf(loadConfig(join(dir, 'missing.json'), { env: false }));
    expect(issues).toEqual([`config file ${join(dir, 'missing.json')}: could not be read (ENOENT)`]);
  });

  it('says a function failed without repeating its message', async () => {
    const issues = await issuesOf(
      loadConfig(async () => {
        throw new TypeError('vault answered with token vault-token-123');
      }, { env: false }),
    );
    expect(issues).toEqual(['config function: failed (TypeError)']);
  });
});
