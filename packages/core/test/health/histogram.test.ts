import { describe, expect, it } from 'vitest';
import { BucketLayout, LogHistogram } from '../../src/health/histogram.js';
import { RollingHistogram } from '../../src/health/rolling.js';
import { isConfigurationError } from '../../src/index.js';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Latencies shaped like a provider's: log-normal around 40 ms with a long tail. */
function latencies(count: number, seed: number): Float64Array {
  const next = random(seed);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    values[i] = Math.exp(Math.log(40) + 0.9 * normal);
  }
  return values;
}

const exactQuantile = (sorted: Float64Array, q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;

describe('log-bucketed latency histogram', () => {
  it('keeps its memory fixed across a million recordings and each quantile within its relative error', () => {
    const histogram = new LogHistogram();
    const before = histogram.byteLength;
    const values = latencies(1_000_000, 7);
    for (const value of values) histogram.record(value);

    expect(histogram.count).toBe(1_000_000);
    expect(histogram.byteLength).toBe(before);
    // The default layout: 2 % from 0.01 ms to 120 s in a few hundred buckets.
    expect(histogram.byteLength).toBeLessThan(4 * 1024);

    const sorted = values.slice().sort();
    const error = histogram.layout.relativeError;
    for (const q of [0, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      const exact = exactQuantile(sorted, q);
      const estimate = histogram.quantile(q) as number;
      expect(Math.abs(estimate - exact) / exact, `q=${q}: exact ${exact}, estimate ${estimate}`).toBeLessThanOrEqual(error + 1e-12);
    }
  });

  it('honours a tighter relative error and a different range', () => {
    const histogram = new LogHistogram({ relativeError: 0.005, minValue: 1, maxValue: 10_000 });
    const values = latencies(50_000, 11).map((v) => Math.min(10_000, Math.max(1.0001, v)));
    for (const value of values) histogram.record(value);
    const sorted = values.slice().sort();
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs((histogram.quantile(q) as number) - exact) / exact).toBeLessThanOrEqual(0.005 + 1e-12);
    }
  });

  it('reports values outside its range at the range ends, and nothing when empty', () => {
    const histogram = new LogHistogram({ minValue: 1, maxValue: 1_000 });
    expect(histogram.quantile(0.5)).toBeUndefined();
    histogram.record(0);
    histogram.record(Number.NaN);
    histogram.record(5_000_000);
    expect(histogram.quantile(0)).toBe(1);
    expect(histogram.quantile(1)).toBe(1_000);
  });

  it('adds histograms of one layout and refuses others', () => {
    const layout = new BucketLayout();
    const a = new LogHistogram(layout);
    const b = new LogHistogram(layout);
    for (let i = 1; i <= 100; i++) (i <= 50 ? a : b).record(i);
    a.add(b);
    expect(a.count).toBe(100);
    expect(Math.abs((a.quantile(0.5) as number) - 50) / 50).toBeLessThanOrEqual(0.02);
    expect(() => a.add(new LogHistogram())).toThrow(RangeError);
  });

  it('rejects a layout that cannot work, naming the key', () => {
    for (const options of [{ relativeError: 0 }, { relativeError: 1 }, { minValue: 0 }, { minValue: 10, maxValue: 5 }]) {
      let caught: unknown;
      try {
        new LogHistogram(options);
      } catch (error) {
        caught = error;
      }
      expect(isConfigurationError(caught), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('rolling histogram', () => {
  it('reports the quantiles of the chosen window only, in fixed memory', () => {
    const ring = new RollingHistogram(new BucketLayout(), 60_000, 15 * 60_000);
    const bytes = ring.byteLength;
    let now = 1_700_000_000_000;
    for (let i = 0; i < 100; i++) ring.record(now, 500); // a slow spell 10 minutes ago
    now += 10 * 60_000;
    for (let i = 0; i < 100; i++) ring.record(now, 20);

    const minute = ring.window(now, 60_000);
    expect(minute.count).toBe(100);
    expect(Math.abs((minute.quantile(0.99) as number) - 20) / 20).toBeLessThanOrEqual(0.02);
    const quarter = ring.window(now, 15 * 60_000);
    expect(quarter.count).toBe(200);
    expect(Math.abs((quarter.quantile(0.99) as number) - 500) / 500).toBeLessThanOrEqual(0.02);

    // Sixteen minutes on, the slow spell has left every window.
    now += 6 * 60_000;
    ring.record(now, 30);
    expect(ring.window(now, 15 * 60_000).count).toBe(101);
    expect(ring.byteLength).toBe(bytes);
  });
});
