/**
 * One call's time with the CPU caches cold, the way a server meets it: between two
 * requests, its HTTP parsing, body parsing and the other requests' work fill the caches
 * with their own data. Here the same happens on purpose: before each timed call,
 * `sweepBytes` of memory are touched, one byte per cache line.
 */

const CACHE_LINE = 64;

export interface ColdWarm {
  readonly name: string;
  /** Median of one call with the caches warm (called back to back), in µs. */
  readonly warmMicros: number;
  /** Median of one call right after the sweep, in µs. */
  readonly coldMicros: number;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[values.length >> 1] as number;
}

/**
 * Times each synchronous `call` one at a time, warm and after a sweep, alternating
 * `passes` times; keeps each case's lowest median (the pass least disturbed by the
 * machine's other work).
 */
export function coldAndWarm(
  cases: readonly (readonly [string, () => unknown])[],
  { calls = 5_000, passes = 4, sweepBytes = 4 << 20 } = {},
): ColdWarm[] {
  const sweep = new Uint8Array(sweepBytes);
  const best = new Map<string, { warm: number; cold: number }>();
  for (let pass = 0; pass < passes; pass++) {
    for (const cold of [false, true]) {
      for (const [name, call] of cases) {
        const times: number[] = [];
        for (let i = 0; i < calls; i++) {
          if (cold) for (let at = 0; at < sweep.length; at += CACHE_LINE) sweep[at] = (sweep[at] as number) + 1;
          const started = performance.now();
          call();
          times.push(performance.now() - started);
        }
        const found = best.get(name) ?? { warm: Number.POSITIVE_INFINITY, cold: Number.POSITIVE_INFINITY };
        const micros = median(times) * 1000;
        best.set(name, cold ? { ...found, cold: Math.min(found.cold, micros) } : { ...found, warm: Math.min(found.warm, micros) });
      }
    }
  }
  return cases.map(([name]) => {
    const found = best.get(name) as { warm: number; cold: number };
    return { name, warmMicros: found.warm, coldMicros: found.cold };
  });
}
