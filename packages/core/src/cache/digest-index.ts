/**
 * Remembers the HMAC digest of recently seen subject facets, so a warm lookup does not
 * pay for an HMAC (about 1.5 µs) on every request.
 *
 * The index never holds a raw facet: it is keyed by a SipHash-2-4-128 of the facet under
 * a random key made for this process alone, and it holds the HMAC digest, which every
 * cache tier holds already. A 128-bit keyed PRF makes two facets sharing an index key
 * (and so one subject answered with another's digest) a 2^-128 event per pair that an
 * outsider cannot steer without the key. The digest itself is still the HMAC, so keys in
 * L2 and purge messages are unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { SubjectFacet } from '../contracts.js';
import { SipHash128 } from './siphash.js';

const INDEX_KEY_BYTES = 16;

/**
 * Two generations of at most `maxEntries` each: lookups promote from the old one, and
 * when the young one is full the old one is dropped whole. An LRU's bookkeeping on every
 * hit would cost more than the index saves.
 */
class Generations {
  #young = new Map<string, string>();
  #old = new Map<string, string>();

  constructor(private readonly maxEntries: number) {}

  get(id: string): string | undefined {
    const young = this.#young.get(id);
    if (young !== undefined) return young;
    const old = this.#old.get(id);
    if (old !== undefined) this.set(id, old);
    return old;
  }

  set(id: string, digest: string): void {
    if (this.#young.size >= this.maxEntries) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(id, digest);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}

export class DigestIndex {
  readonly #hasher = new SipHash128(randomBytes(INDEX_KEY_BYTES));
  readonly #byFacet = new Map<SubjectFacet, Generations>();

  constructor(
    /** Most facets per kind remembered in each generation. */
    private readonly maxEntries: number,
    /** The HMAC digest of a facet, computed when the index does not know it. */
    private readonly digestOf: (facet: SubjectFacet, value: string) => string,
  ) {}

  digest(facet: SubjectFacet, value: string): string {
    let known = this.#byFacet.get(facet);
    if (known === undefined) {
      known = new Generations(this.maxEntries);
      this.#byFacet.set(facet, known);
    }
    const id = this.#hasher.hashText(value);
    let digest = known.get(id);
    if (digest === undefined) {
      digest = this.digestOf(facet, value);
      known.set(id, digest);
    }
    return digest;
  }

  /** Facets remembered, over all kinds (both generations). */
  get size(): number {
    let total = 0;
    for (const known of this.#byFacet.values()) total += known.size;
    return total;
  }
}
