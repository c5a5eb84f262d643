/**
 * The health monitor: watches one engine through its verdicts and events, and answers
 * with a snapshot (`ok | degraded | down` and why), alerts and their subscribers.
 * It observes and never steers: nothing here can slow, fail or change a verdict.
 */
import type { Verdict } from '../contracts.js';
import type { EngineInternals } from '../engine/create.js';
import type { EngineEvent } from '../engine/events.js';
import { ConfigurationError } from '../errors.js';
import type { QuotaSnapshot } from '../quota/index.js';
import { redactText } from '../log/redact.js';
import { DEGRADATION_DEFAULTS, degradationIssues } from './degradation.js';
import type { DegradationChange, DegradationOptions, ResolvedDegradation } from './degradation.js';
import { AlertStream, isAlert } from './events.js';
import type { AlertEvent, HealthEvent, HealthEventType, HealthListener } from './events.js';
import { BucketLayout } from './histogram.js';
import type { LogHistogramOptions } from './histogram.js';
import { ProviderStats, WINDOWS } from './provider-stats.js';
import type { LatencySummary, WindowCounts, WindowName } from './provider-stats.js';
import { breakerHealth, cacheHealth, judgeEngine, judgeProvider, quotaHealth } from './snapshot.js';
import type { HealthSnapshot, ProviderHealth, QuotaHealth } from './snapshot.js';
import { webhookSink } from './webhook.js';
import type { WebhookOptions } from './webhook.js';

/** Options of a health monitor; every one has a documented default. */
export interface HealthMonitorOptions {
  /** Wall clock, epoch ms (default `Date.now`); pass the engine's `clock` in tests. */
  readonly now?: () => number;
  /** An answer or failure taking at least this long counts as slow (default 80 ms: near the default 100 ms budget). */
  readonly slowCallMs?: number;
  /** When a provider is reported degraded and recovered. */
  readonly degradation?: DegradationOptions;
  /** A quota window with less than this share left raises `quota.low` and makes its provider degraded (default 0.1). */
  readonly quotaLowShare?: number;
  /** Shortest time between two alerts of one kind about one subject (default 300 000 ms). */
  readonly cooldownMs?: number;
  /** Alerts kept for the snapshot and the status page (default 50). */
  readonly keepEvents?: number;
  /** How often quotas are checked for `quota.low` and held-back alerts are sent (default 15 000 ms; `false`: only on `refresh()` and `snapshot()`). */
  readonly refreshIntervalMs?: number | false;
  /** Longest wait for one quota's state in a snapshot (default 1 000 ms). */
  readonly quotaReadTimeoutMs?: number;
  /** Latency histogram layout (default 2 % relative error from 0.01 ms to 120 s). */
  readonly histogram?: LogHistogramOptions;
  /** POST each alert to this URL (see `webhookSink`). */
  readonly webhook?: WebhookOptions;
}

const DEFAULTS = {
  slowCallMs: 80,
  quotaLowShare: 0.1,
  cooldownMs: 300_000,
  keepEvents: 50,
  refreshIntervalMs: 15_000,
  quotaReadTimeoutMs: 1_000,
} as const;

const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
const QUOTA_UNREADABLE = Symbol('quota unreadable');

function checkOptions(options: HealthMonitorOptions): ResolvedDegradation {
  const degradation = { ...DEGRADATION_DEFAULTS, ...options.degradation };
  const issues = degradationIssues(degradation);
  const positive = (key: keyof typeof DEFAULTS, value: unknown): void => {
    if (value !== undefined && value !== false && !(typeof value === 'number' && value > 0)) {
      issues.push(`health.${key}: expected a number > 0, got ${JSON.stringify(value)}`);
    }
  };
  positive('slowCallMs', options.slowCallMs);
  positive('cooldownMs', options.cooldownMs);
  positive('refreshIntervalMs', options.refreshIntervalMs);
  positive('quotaReadTimeoutMs', options.quotaReadTimeoutMs);
  const share = options.quotaLowShare;
  if (share !== undefined && !(share > 0 && share < 1)) issues.push(`health.quotaLowShare: expected 0 < share < 1, got ${share}`);
  const keep = options.keepEvents;
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0)) issues.push(`health.keepEvents: expected an integer ≥ 0, got ${keep}`);
  if (issues.length > 0) throw new ConfigurationError(issues);
  return degradation;
}

/** Engine events carry reasons from below; scrub them before they travel further. */
function scrubbed(event: AlertEvent): AlertEvent {
  return 'reason' in event ? { ...event, reason: redactText(event.reason) } : event;
}

/**
 * Watches one engine. Build it with `createHealthMonitor(engine, options)` or get the
 * engine's shared one with `healthMonitor(engine)`.
 *
 * @example
 * const monitor = createHealthMonitor(engine, { cooldownMs: 60_000 });
 * monitor.on('provider.degraded', (event) => pager.notify(event));
 * const health = await monitor.snapshot(); // { status: 'ok', providers: [...], cache: {...}, events: [...] }
 */
export class HealthMonitor {
  private readonly now: () => number;
  private readonly quotaLowShare: number;
  private readonly quotaReadTimeoutMs: number;
  private readonly stats = new Map<string, ProviderStats>();
  private readonly alerts: AlertStream;
  private readonly detach: (() => void)[] = [];
  /** Quota windows currently under the low share, as `provider|window`. */
  private readonly lowWindows = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly internals: EngineInternals,
    options: HealthMonitorOptions = {},
    /** Called once by `close()`. */
    private readonly onClose: () => void = () => undefined,
  ) {
    const degradation = checkOptions(options);
    const layout = new BucketLayout(options.histogram);
    const slowCallMs = options.slowCallMs ?? DEFAULTS.slowCallMs;
    this.now = options.now ?? Date.now;
    this.quotaLowShare = options.quotaLowShare ?? DEFAULTS.quotaLowShare;
    this.quotaReadTimeoutMs = options.quotaReadTimeoutMs ?? DEFAULTS.quotaReadTimeoutMs;
    this.alerts = new AlertStream({
      cooldownMs: options.cooldownMs ?? DEFAULTS.cooldownMs,
      keep: options.keepEvents ?? DEFAULTS.keepEvents,
    });
    for (const { name } of internals.providers) this.stats.set(name, new ProviderStats(name, layout, degradation, slowCallMs));
    if (options.webhook !== undefined) this.alerts.on('*', webhookSink({ logger: internals.logger, ...options.webhook }));

    const observe = (verdict: Verdict): void => this.observe(verdict);
    internals.verdictObservers.add(observe);
    this.detach.push(() => internals.verdictObservers.delete(observe));
    this.detach.push(internals.events.on('*', (event: EngineEvent) => {
      if (isAlert(event)) this.alerts.publish(scrubbed(event), this.now());
    }));
    const interval = options.refreshIntervalMs ?? DEFAULTS.refreshIntervalMs;
    if (interval !== false) {
      this.timer = setInterval(() => void this.refresh(), interval);
      // Watching must never keep a process alive.
      this.timer.unref();
    }
  }

  /** Subscribes to alerts of one type, or `*` for all; returns the unsubscribe function. */
  on(type: HealthEventType | '*', listener: HealthListener): () => void {
    return this.alerts.on(type, listener);
  }

  /** The latest alerts, newest first. */
  recentEvents(): readonly HealthEvent[] {
    return this.alerts.recent();
  }

  /** Checks quotas for `quota.low` and sends alerts whose cool-down ended; runs on a timer too. Never rejects. */
  async refresh(): Promise<void> {
    await Promise.all([...this.internals.quotas.values()].map((quota) => this.readQuota(quota)));
    this.alerts.flush(this.now());
  }

  /**
   * The engine's health now. Reads each quota's state (from Redis when shared), so it
   * takes at most `quotaReadTimeoutMs`; never rejects.
   */
  async snapshot(): Promise<HealthSnapshot> {
    const quotas = new Map<string, QuotaSnapshot | typeof QUOTA_UNREADABLE>();
    await Promise.all(
      [...this.internals.quotas].map(async ([name, quota]) => quotas.set(name, await this.readQuota(quota))),
    );
    const at = this.now();
    this.alerts.flush(at);
    const providers = this.internals.providers.map((provider): ProviderHealth => {
      const stats = this.stats.get(provider.name) as ProviderStats;
      const state = this.internals.breakers.get(provider.name)?.state;
      const breaker = state === undefined ? null : breakerHealth(state);
      const read = quotas.get(provider.name);
      const quota: QuotaHealth | null = read === undefined || read === QUOTA_UNREADABLE ? null : quotaHealth(read);
      const judged = judgeProvider({ breaker, quota, degraded: stats.degraded }, this.quotaLowShare);
      if (read === QUOTA_UNREADABLE) judged.reasons.push('quota state could not be read in time');
      const calls = {} as Record<WindowName, WindowCounts>;
      const latencyMs = {} as Record<WindowName, LatencySummary>;
      for (const window of WINDOW_NAMES) {
        calls[window] = stats.counts(at, window);
        latencyMs[window] = stats.latencyOver(at, window);
      }
      return {
        name: provider.name,
        local: provider.local,
        weight: provider.weight,
        status: judged.status,
        reasons: judged.reasons,
        degraded: stats.degraded,
        breaker,
        calls,
        latencyMs,
        quota,
        lastError: stats.lastError ?? null,
      };
    });
    const cache = this.internals.cache === undefined ? null : cacheHealth(this.internals.cache.health(), this.internals.cache.stats());
    const engine = judgeEngine(providers, cache);
    return { status: engine.status, reasons: engine.reasons, at, providers, cache, events: this.alerts.recent() };
  }

  /** Stops watching: no more observation, timers or alerts. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.detach.length === 0) return;
    for (const stop of this.detach.splice(0)) stop();
    this.onClose();
  }

  private observe(verdict: Verdict): void {
    const at = this.now();
    for (const name in verdict.signals) {
      const signal = verdict.signals[name];
      const change = signal === undefined ? undefined : this.stats.get(name)?.record(signal, at);
      if (change !== undefined) this.announce(name, change, at);
    }
  }

  /** Logs a degradation change once, as it happens, and raises its alert. */
  private announce(provider: string, change: DegradationChange, at: number): void {
    const meta = { provider, failureRate: Number(change.failureRate.toFixed(3)), calls: change.calls };
    if (change.state === 'degraded') this.internals.logger.warn('provider degraded', meta);
    else this.internals.logger.info('provider recovered', meta);
    this.alerts.publish({ type: change.state === 'degraded' ? 'provider.degraded' : 'provider.recovered', ...meta }, at);
  }

  /** One quota's state within the timeout (checking it for `quota.low`). */
  private async readQuota(quota: { readonly provider: string; snapshot(): Promise<QuotaSnapshot> }) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof QUOTA_UNREADABLE>((resolve) => {
      timer = setTimeout(() => resolve(QUOTA_UNREADABLE), this.quotaReadTimeoutMs);
    });
    try {
      const read = await Promise.race([quota.snapshot(), timeout]);
      if (read !== QUOTA_UNREADABLE) this.checkLow(read);
      return read;
    } catch {
      return QUOTA_UNREADABLE;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Raises `quota.low` when a window crosses under the low share; it can fire again once the window recovers (a new period). */
  private checkLow(snapshot: QuotaSnapshot): void {
    for (const w of snapshot.windows) {
      const window = `${w.period} ${w.unit}`;
      const key = `${snapshot.provider}|${window}`;
      const low = w.limit > 0 && w.remaining > 0 && w.remaining / w.limit < this.quotaLowShare;
      if (!low) {
        this.lowWindows.delete(key);
        continue;
      }
      if (this.lowWindows.has(key)) continue;
      this.lowWindows.add(key);
      const event = { type: 'quota.low', provider: snapshot.provider, window, remaining: w.remaining, limit: w.limit, resetAtMs: w.resetAtMs } as const;
      this.internals.logger.warn('quota low', { ...event });
      this.alerts.publish(event, this.now());
    }
  }
}
