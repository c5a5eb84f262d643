/**
 * Prometheus metrics of one engine, through prom-client (an optional peer dependency,
 * loaded only when metrics are asked for). Per-call series are counted as verdicts
 * arrive; state (breakers, quotas, cache, health) is read from one health snapshot per
 * scrape.
 */
import type * as PromClientModule from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DECISIONS } from '../contracts.js';
import type { SignalStatus, Verdict } from '../contracts.js';
import { engineInternals } from '../engine/create.js';
import type { FormSecurity } from '../engine/create.js';
import { ConfigurationError } from '../errors.js';
import { healthMonitor } from './attach.js';
import type { HealthMonitor } from './monitor.js';
import type { HealthSnapshot, HealthStatus } from './snapshot.js';

export interface PrometheusOptions {
  /** Where the metrics are registered (default: a new registry of their own, so engines never clash). */
  readonly registry?: Registry;
  /** Prefix of every name (default `formsecurity_`). */
  readonly prefix?: string;
  /** Buckets of the latency histogram, in seconds (default 5 ms … 5 s). */
  readonly latencyBuckets?: readonly number[];
  /** The monitor whose snapshot feeds the gauges (default: the engine's own). */
  readonly monitor?: HealthMonitor;
}

export interface PrometheusMetrics {
  readonly registry: Registry;
  /** The content type of `metrics()`, for the scrape answer's header. */
  readonly contentType: string;
  /** The text exposition of every metric in the registry. */
  metrics(): Promise<string>;
  /** Stops counting and removes these metrics from the registry. */
  close(): void;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Statuses whose latency is the provider's: the call reached it (or tried to). */
const TIMED: ReadonlySet<SignalStatus> = new Set(['fresh', 'error', 'timeout']);
const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
const STATUS_VALUE: Record<HealthStatus, number> = { ok: 0, degraded: 1, down: 2 };


type PromClient = typeof PromClientModule;

async function loadPromClient(): Promise<PromClient> {
  try {
    const loaded = (await import('prom-client')) as PromClient & { default?: PromClient };
    return loaded.Registry === undefined && loaded.default !== undefined ? loaded.default : loaded;
  } catch {
    throw new ConfigurationError(['metrics: install prom-client (an optional peer dependency) to export Prometheus metrics']);
  }
}

/**
 * Registers the engine's metrics:
 * - `formsecurity_provider_calls_total{provider,status}` — signals per provider and status;
 * - `formsecurity_provider_latency_seconds{provider,status}` — time waited on calls that reached a remote provider;
 * - `formsecurity_verdicts_total{decision,degraded}`;
 * - `formsecurity_alerts_total{type}` — alerts sent (after de-duplication);
 * - `formsecurity_breaker_state{provider}` — 0 closed, 1 half-open, 2 open;
 * - `formsecurity_provider_status{provider}` and `formsecurity_health_status` — 0 ok, 1 degraded, 2 down;
 * - `formsecurity_quota_remaining{provider,window}`, `formsecurity_quota_limit{provider,window}`,
 *   `formsecurity_quota_spend{provider,period}`;
 * - `formsecurity_cache_hits_total{tier}`, `formsecurity_cache_misses_total{tier}`, `formsecurity_cache_l2_up`.
 *
 * @example
 * const metrics = await createPrometheusMetrics(engine);
 * app.get('/metrics', async (_req, res) => res.type(metrics.contentType).send(await metrics.metrics()));
 */
export async function createPrometheusMetrics(engine: FormSecurity, options: PrometheusOptions = {}): Promise<PrometheusMetrics> {
  const internals = engineInternals(engine);
  if (internals === undefined) throw new ConfigurationError(['engine: expected an engine built by createFormSecurity']);
  const client = await loadPromClient();
  const registry = options.registry ?? new client.Registry();
  const prefix = options.prefix ?? 'formsecurity_';
  const monitor = options.monitor ?? healthMonitor(engine);
  const registers = [registry];

  // All gauges and cache counters of one scrape read the same snapshot.
  let pending: Promise<HealthSnapshot> | undefined;
  const snapshot = (): Promise<HealthSnapshot> => {
    pending ??= monitor.snapshot().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  // Counted in plain numbers per verdict and handed to prom-client at each scrape: its
  // label hashing would cost about a microsecond per increment on the request path.
  const callCounts = new Map<string, Map<SignalStatus, number>>();
  /** Per decision (in DECISIONS order), not degraded then degraded. */
  const verdictCounts = new Float64Array(DECISIONS.length * 2);
  const calls = new client.Counter({
    name: `${prefix}provider_calls_total`,
    help: 'Provider signals by status (fresh, cached, stale, timeout, circuit-open, quota-exhausted, error, skipped).',
    labelNames: ['provider', 'status'] as const,
    registers,
    collect() {
      this.reset();
      for (const [provider, byStatus] of callCounts) for (const [status, count] of byStatus) this.inc({ provider, status }, count);
    },
  });
  const latency = new client.Histogram({
    name: `${prefix}provider_latency_seconds`,
    help: 'Time a request waited on a call that reached a remote provider (status fresh, error or timeout).',
    labelNames: ['provider', 'status'] as const,
    buckets: [...(options.latencyBuckets ?? DEFAULT_BUCKETS)],
    registers,
  });
  const verdicts = new client.Counter({
    name: `${prefix}verdicts_total`,
    help: 'Verdicts by decision and whether a selected provider had no usable answer.',
    labelNames: ['decision', 'degraded'] as const,
    registers,
    collect() {
      this.reset();
      verdictCounts.forEach((count, index) => {
        if (count > 0) this.inc({ decision: DECISIONS[index >> 1] as string, degraded: String(index % 2 === 1) }, count);
      });
    },
  });
  const alerts = new client.Counter({
    name: `${prefix}alerts_total`,
    help: 'Health alerts sent, after de-duplication.',
    labelNames: ['type'] as const,
    registers,
  });

  const stateGauge = (name: string, help: string, labelNames: readonly string[], fill: (gauge: Gauge, health: HealthSnapshot) => void): Gauge =>
    new client.Gauge({
      name: `${prefix}${name}`,
      help,
      labelNames,
      registers,
      async collect() {
        const health = await snapshot();
        this.reset();
        fill(this, health);
      },
    });

  const gauges = [
    stateGauge('breaker_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open.', ['provider'], (gauge, health) => {
      for (const p of health.providers) if (p.breaker !== null) gauge.set({ provider: p.name }, BREAKER_VALUE[p.breaker.state]);
    }),
    stateGauge('provider_status', 'Provider health: 0 ok, 1 degraded, 2 down.', ['provider'], (gauge, health) => {
      for (const p of health.providers) gauge.set({ provider: p.name }, STATUS_VALUE[p.status]);
    }),
    stateGauge('health_status', 'Engine health: 0 ok, 1 degraded, 2 down.', [], (gauge, health) => {
      gauge.set(STATUS_VALUE[health.status]);
    }),
    stateGauge('quota_remaining', 'Calls (or spend) left in each quota window.', ['provider', 'window'], (gauge, health) => {
      for (const p of health.providers) for (const w of p.quota?.windows ?? []) gauge.set({ provider: p.name, window: `${w.period}_${w.unit}` }, w.remaining);
    }),
    stateGauge('quota_limit', 'Limit of each quota window.', ['provider', 'window'], (gauge, health) => {
      for (const p of health.providers) for (const w of p.quota?.windows ?? []) gauge.set({ provider: p.name, window: `${w.period}_${w.unit}` }, w.limit);
    }),
    stateGauge('quota_spend', 'Spent in the current day and month, in the unit of costPerCall.', ['provider', 'period'], (gauge, health) => {
      for (const p of health.providers) {
        for (const [period, amount] of Object.entries(p.quota?.spend ?? {})) gauge.set({ provider: p.name, period }, amount);
      }
    }),
    stateGauge('cache_l2_up', 'Whether the shared cache tier answers: 1 up, 0 down or starting (absent when off).', [], (gauge, health) => {
      if (health.cache !== null && health.cache.l2 !== 'off') gauge.set(health.cache.l2 === 'up' ? 1 : 0);
    }),
  ];

  // The cache keeps running totals; these counters advance by the difference at each scrape.
  const seen = { hits: { l1: 0, l2: 0 }, misses: { l1: 0, l2: 0 } };
  const cacheCounter = (kind: 'hits' | 'misses'): Counter =>
    new client.Counter({
      name: `${prefix}cache_${kind}_total`,
      help: kind === 'hits' ? 'Cache lookups answered fresh, by tier (L2 is asked on L1 misses).' : 'Cache lookups not answered fresh, by tier.',
      labelNames: ['tier'],
      registers,
      async collect() {
        const stats = (await snapshot()).cache?.stats;
        if (stats === undefined) return;
        for (const tier of ['l1', 'l2'] as const) {
          const total = stats[tier][kind];
          if (total > seen[kind][tier]) this.inc({ tier }, total - seen[kind][tier]);
          seen[kind][tier] = total;
        }
      },
    });
  const cacheCounters = [cacheCounter('hits'), cacheCounter('misses')];

  // Only calls that reached a remote provider are timed: they already cost a network
  // round trip, beside which prom-client's microsecond per observation is noise.
  const latencyChildren = new Map<string, Map<SignalStatus, { observe(value: number): void }>>(
    internals.providers.filter((p) => !p.local).map((p) => [p.name, new Map()]),
  );
  const observe = (verdict: Verdict): void => {
    verdictCounts[DECISIONS.indexOf(verdict.decision) * 2 + (verdict.degraded ? 1 : 0)]! += 1;
    for (const provider in verdict.signals) {
      const signal = verdict.signals[provider];
      if (signal === undefined) continue;
      let byStatus = callCounts.get(provider);
      if (byStatus === undefined) {
        byStatus = new Map();
        callCounts.set(provider, byStatus);
      }
      byStatus.set(signal.status, (byStatus.get(signal.status) ?? 0) + 1);
      const timed = TIMED.has(signal.status) ? latencyChildren.get(provider) : undefined;
      if (timed !== undefined) {
        let child = timed.get(signal.status);
        if (child === undefined) {
          child = latency.labels(provider, signal.status);
          timed.set(signal.status, child);
        }
        child.observe(signal.latencyMs / 1000);
      }
    }
  };
  internals.verdictObservers.add(observe);
  const stopAlerts = monitor.on('*', (event) => alerts.inc({ type: event.type }));

  const own: (Counter | Gauge | Histogram)[] = [calls, latency, verdicts, alerts, ...gauges, ...cacheCounters];
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    close() {
      internals.verdictObservers.delete(observe);
      stopAlerts();
      for (const metric of own) registry.removeSingleMetric((metric as unknown as { name: string }).name);
    },
  };
}
