/**
 * Seeded random numbers and a Zipf-distributed picker: a few submitters come back
 * very often, most come once or twice, as on a real contact form under spam.
 */

/**
 * A small, fast, seeded PRNG (mulberry32): the same seed gives the same load, so two
 * runs (or two instance counts) see the same sequence of subjects.
 *
 * @example
 * const random = seededRandom(42);
 * random(); // 0.6011037519201636, every time
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Picks ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent, by
 * binary search over the precomputed cumulative distribution.
 *
 * @example
 * const pick = zipf(10_000, 1.1, seededRandom(7));
 * const address = benchAddress(pick()); // mostly the same few addresses
 */
export function zipf(n: number, exponent: number, random: () => number): () => number {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError('zipf: n must be a positive integer');
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / (rank + 1) ** exponent;
    cumulative[rank] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/**
 * The address of a numbered subject, in 198.18.0.0/15 (the range RFC 2544 sets aside
 * for benchmarks), so no real address is ever used.
 *
 * @example
 * benchAddress(0); // '198.18.0.1'
 */
export function benchAddress(index: number): string {
  if (!(Number.isInteger(index) && index >= 0 && index < 131_070)) throw new RangeError('benchAddress: index out of range');
  const value = index + 1;
  return `198.${18 + (value >> 16)}.${(value >> 8) & 255}.${value & 255}`;
}
