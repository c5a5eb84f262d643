import { describe, expect, it } from 'vitest';
import { DigestIndex } from '../../src/cache/digest-index.js';
import { prepareSecret, subjectDigest } from '../../src/cache/keys.js';
import { createTieredCache } from '../../src/cache/tiered-cache.js';
import type { SubjectFacet } from '../../src/contracts.js';
import { TEST_SECRET } from './helpers.js';

const secret = prepareSecret(TEST_SECRET);

/** An index over the real HMAC that counts how often it had to compute one. */
function countingIndex(maxEntries: number) {
  const computed: [SubjectFacet, string][] = [];
  const index = new DigestIndex(maxEntries, (facet, value) => {
    computed.push([facet, value]);
    return subjectDigest(secret, facet, value);
  });
  return { index, computed };
}

describe('digest index', () => {
  it('answers with the HMAC digest, computing it once per facet value', () => {
    const { index, computed } = countingIndex(100);
    const first = index.digest('ip', '203.0.113.7');
    expect(first).toBe(subjectDigest(secret, 'ip', '203.0.113.7'));
    expect(index.digest('ip', '203.0.113.7')).toBe(first);
    expect(computed).toEqual([['ip', '203.0.113.7']]);
  });

  it('keeps facets apart, and gives two spellings of one subject the same digest', () => {
    const { index, computed } = countingIndex(100);
    expect(index.digest('email', 'ann@example.org')).not.toBe(index.digest('username', 'ann@example.org'));
    expect(index.digest('email', 'Ann@Example.org ')).toBe(index.digest('email', 'ann@example.org'));
    expect(index.digest('ip', '::ffff:203.0.113.7')).toBe(index.digest('ip', '203.0.113.7'));
    expect(computed).toHaveLength(5);
  });

  it('stays bounded by two generations and keeps the values still in use', () => {
    const { index, computed } = countingIndex(50);
    for (let i = 0; i < 1_000; i++) {
      index.digest('ip', `198.51.100.${i % 256}.${i}`);
      index.digest('ip', '203.0.113.7');
      expect(index.size).toBeLessThanOrEqual(100);
    }
    // The hot address was promoted on every use, so it was computed only once.
    expect(computed.filter(([, value]) => value === '203.0.113.7')).toHaveLength(1);
    expect(computed).toHaveLength(1_001);
  });

  it('is keyed anew in every process: two indexes share no key, yet give the same digests', () => {
    const a = countingIndex(10);
    const b = countingIndex(10);
    expect(a.index.digest('ip', '203.0.113.7')).toBe(b.index.digest('ip', '203.0.113.7'));
  });
});

describe('provider keys built from the index', () => {
  it('reuse the same key string for a returning subject, and never for a different second facet', async () => {
    const cache = createTieredCache({ secret: TEST_SECRET, l2: false, l1: { maxEntries: 4 } });
    const sfs = cache.forProvider<{ score: number }>({ name: 'sfs' });
    const ann = { ip: '203.0.113.7', email: 'ann@example.org' };
    const key = sfs.keyFor(ann, ['ip', 'email']);
    expect(sfs.keyFor({ ...ann }, ['ip', 'email'])).toBe(key);
    const bob = sfs.keyFor({ ip: '203.0.113.7', email: 'bob@example.org' }, ['ip', 'email']);
    expect(bob).not.toBe(key);
    expect(bob?.split('.')[0]).toBe(key?.split('.')[0]);
    expect(sfs.keyFor({ ip: '203.0.113.7' }, ['ip', 'email'])).toBe(sfs.key('203.0.113.7'));
    // Past the bound the memo starts over; the keys stay the same.
    for (let i = 0; i < 20; i++) sfs.keyFor({ ip: `192.0.2.${i}` }, ['ip']);
    expect(sfs.keyFor(ann, ['ip', 'email'])).toBe(key);
    await cache.close();
  });
});
