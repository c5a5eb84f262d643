import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, normaliseFacet, prepareSecret, subjectDigest } from '../../src/cache/keys.js';
import { isConfigurationError } from '../../src/errors.js';
import { TEST_SECRET } from './helpers.js';

const secret = prepareSecret(TEST_SECRET);

describe('cache keys', () => {
  it('is an HMAC-SHA256 of facet and normalised value under the secret', () => {
    const expected = createHmac('sha256', TEST_SECRET).update('ip\u0000203.0.113.7').digest('base64url');
    expect(subjectDigest(secret, 'ip', '203.0.113.7')).toBe(expected);
    expect(cacheKey(secret, { provider: 'dnsbl', version: '3' }, 'ip', '203.0.113.7')).toBe(`dnsbl:3:${expected}`);
  });

  it('hashes every spelling of one address to the same key', () => {
    const canonical = subjectDigest(secret, 'ip', '2001:db8::1');
    expect(subjectDigest(secret, 'ip', '2001:0DB8:0:0:0:0:0:1')).toBe(canonical);
    expect(subjectDigest(secret, 'ip', ' [2001:db8::1] ')).toBe(canonical);
    expect(subjectDigest(secret, 'ip', '::ffff:192.0.2.1')).toBe(subjectDigest(secret, 'ip', '192.0.2.1'));
    expect(subjectDigest(secret, 'email', ' Someone@Example.ORG ')).toBe(subjectDigest(secret, 'email', 'someone@example.org'));
  });

  it('keeps facets, secrets and subjects apart', () => {
    const digest = subjectDigest(secret, 'email', 'a@example.org');
    expect(subjectDigest(secret, 'username', 'a@example.org')).not.toBe(digest);
    expect(subjectDigest(prepareSecret('another-secret-of-16-bytes+'), 'email', 'a@example.org')).not.toBe(digest);
    expect(subjectDigest(secret, 'email', 'b@example.org')).not.toBe(digest);
  });

  it('never contains the raw value', () => {
    const key = cacheKey(secret, { provider: 'sfs', version: '1' }, 'email', 'someone@example.org');
    expect(key).not.toContain('someone');
    expect(key).not.toContain('example');
    expect(key).toMatch(/^sfs:1:[A-Za-z0-9_-]{43}$/);
  });

  it('rejects a short secret without echoing it', () => {
    let thrown: unknown;
    try {
      prepareSecret('short-secret');
    } catch (error) {
      thrown = error;
    }
    expect(isConfigurationError(thrown)).toBe(true);
    expect(String((thrown as Error).message)).not.toContain('short-secret');
  });

  it('normalises only what the facet allows', () => {
    expect(normaliseFacet('content', '  Hello World  ')).toBe('Hello World');
    expect(normaliseFacet('ip', 'not-an-ip ')).toBe('not-an-ip');
  });
});

describe('the HMAC behind every key', () => {
  it('is exactly HMAC-SHA256 (RFC 2104) for any key and message, short, long or multi-byte', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.string({ minLength: 4097, maxLength: 5000 })),
        (key, message) => {
          const expected = createHmac('sha256', key).update(message, 'utf8').digest('base64url');
          expect(prepareSecret(key).mac(message)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never shows the key when printed', () => {
    const secret = prepareSecret('a-very-secret-cache-key-0123456789');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[KeySecret]"}');
    expect(inspect(secret)).toBe('[KeySecret]');
  });
});
