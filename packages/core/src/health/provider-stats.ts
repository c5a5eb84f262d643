/**
 * What one provider's signals say over the last minutes: counts per outcome, latency
 * quantiles, the last error and whether it is degraded. Fed once per signal, O(1).
 */
import type { Signal } from '../contracts.js';
import { redactText } from '../log/redact.js';
import { DegradationDetector } from './degradation.js';
import type { DegradationChange, ResolvedDegradation } from './degradation.js';
import type { BucketLayout } from './histogram.js';
import { RollingCounters, RollingHistogram } from './rolling.js';

/** The windows every count and quantile is reported over. */
export const WINDOWS = { '1m': 60_000, '5m': 300_000, '15m': 900_000 } as const;
export type WindowName = keyof typeof WINDOWS;

const COUNTER_SLOT_MS = 10_000;
const LATENCY_SLOT_MS = 60_000;
const SPAN_MS = WINDOWS['15m'];
const MAX_ERROR_MESSAGE = 200;

/**
 * Counts of one window.
 * - `calls`: the provider was consulted (every status but `skipped`);
 * - `fresh`: it answered; `cached`: the cache answered; `stale`: an expired cached answer
 *   stood in after the fetch failed or was refused;
 * - `failures`: it failed or did not answer in time (`error` and `timeout`);
 *   `timeouts` is the part of them that ran into the deadline;
 * - `rejected`: not asked, because its breaker was open or its quota used up;
 * - `slow`: answers and failures that took at least `slowCallMs`.
 */
export interface WindowCounts {
  readonly calls: number;
  readonly fresh: number;
  readonly cached: number;
  readonly stale: number;
  readonly failures: number;
  readonly timeouts: number;
  readonly rejected: number;
  readonly slow: number;
  /** failures / (fresh + failures), or null without such calls. */
  readonly failureRate: number | null;
  /** cached / (cached + fresh + failures + stale): the share the cache spared the provider, or null. */
  readonly cacheHitRatio: number | null;
}

/** Latency of the calls that waited on the provider (fresh, error, timeout), in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** The latest failure: its stable code and a redacted, shortened message. */
export interface LastError {
  readonly code: string;
  readonly message: string;
  readonly at: number;
}

/** Positions of the counters in each ring slot. */
const Field = { calls: 0, fresh: 1, cached: 2, stale: 3, failures: 4, timeouts: 5, rejected: 6, slow: 7 } as const;
const FIELD_COUNT = 8;

export class ProviderStats {
  private readonly counters = new RollingCounters(FIELD_COUNT, COUNTER_SLOT_MS, SPAN_MS);
  private readonly latency: RollingHistogram;
  private readonly detector: DegradationDetector;
  lastError: LastError | undefined;

  constructor(
    readonly name: string,
    layout: BucketLayout,
    degradation: ResolvedDegradation,
    private readonly slowCallMs: number,
  ) {
    this.latency = new RollingHistogram(layout, LATENCY_SLOT_MS, SPAN_MS);
    this.detector = new DegradationDetector(degradation);
  }

  get degraded(): boolean {
    return this.detector.degraded;
  }

  /** Bytes held; fixed at construction. */
  get byteLength(): number {
    return this.counters.byteLength + this.latency.byteLength;
  }

  /** Counts one signal; returns a degradation change when this call caused one. */
  record(signal: Signal, at: number): DegradationChange | undefined {
    const { status } = signal;
    if (status === 'skipped') return undefined;
    this.counters.add(at, Field.calls);
    switch (status) {
      case 'cached':
        this.counters.add(at, Field.cached);
        return undefined;
      case 'stale':
        this.counters.add(at, Field.stale);
        return undefined;
      case 'circuit-open':
      case 'quota-exhausted':
        this.counters.add(at, Field.rejected);
        return undefined;
      case 'fresh':
        this.counters.add(at, Field.fresh);
        break;
      case 'timeout':
      case 'error':
        this.counters.add(at, Field.failures);
        if (status === 'timeout') this.counters.add(at, Field.timeouts);
        this.lastError = { code: signal.code ?? status, message: this.messageOf(signal), at };
        break;
    }
    if (signal.latencyMs >= this.slowCallMs) this.counters.add(at, Field.slow);
    this.latency.record(at, signal.latencyMs);
    return this.detector.record(at, status !== 'fresh');
  }

  /** The failure's reason without the provider's name, which the engine puts in front (sometimes twice). */
  private messageOf(signal: Signal): string {
    let message = signal.reasons[0] ?? signal.status;
    const prefix = `${this.name}: `;
    while (message.startsWith(prefix)) message = message.slice(prefix.length);
    return redactText(message).slice(0, MAX_ERROR_MESSAGE);
  }

  counts(at: number, window: WindowName): WindowCounts {
    const [calls, fresh, cached, stale, failures, timeouts, rejected, slow] = this.counters.sum(at, WINDOWS[window]) as [
      number, number, number, number, number, number, number, number,
    ];
    const attempts = fresh + failures;
    const served = cached + fresh + failures + stale;
    return {
      calls,
      fresh,
      cached,
      stale,
      failures,
      timeouts,
      rejected,
      slow,
      failureRate: attempts === 0 ? null : failures / attempts,
      cacheHitRatio: served === 0 ? null : cached / served,
    };
  }

  latencyOver(at: number, window: WindowName): LatencySummary {
    const merged = this.latency.window(at, WINDOWS[window]);
    return {
      count: merged.count,
      p50: merged.quantile(0.5) ?? null,
      p95: merged.quantile(0.95) ?? null,
      p99: merged.quantile(0.99) ?? null,
    };
  }
}
