import type { Provider, ReportKind, ResolvedPolicy, RoutePolicy, Signal, Subject, SubjectFacet, Verdict } from '../contracts.js';
import type { PurgeReport, PurgeScope, TieredCache } from '../cache/index.js';
import type { PrivacyOptions } from '../config/privacy.js';
import { prepareConfig } from '../config/validate.js';
import { ConfigurationError, isConfigurationError } from '../errors.js';
// The monitor reads the engine only at call time, so this import cycle is harmless.
import { healthMonitor, startedHealthMonitor } from '../health/attach.js';
import type { HealthSnapshot } from '../health/snapshot.js';
import type { Logger } from '../log/logger.js';
import { createProviderPipeline } from '../pipeline/provider-pipeline.js';
import { promised } from '../promised.js';
import type { ProviderPipeline, ReportOutcome } from '../pipeline/provider-pipeline.js';
import type { Quota } from '../quota/quota.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { BreakerBus } from '../resilience/redis-bus.js';
import { DEFAULT_THRESHOLDS, aggregate } from './aggregate.js';
import type { Thresholds } from './aggregate.js';
import { DeadlineTimer } from './deadline-timer.js';
import { Evaluation } from './evaluation.js';
import { DEFAULT_TIMEOUT_MS, createDependencies, createProviderParts } from './dependencies.js';
import type { Backends, ProviderRegistration } from './dependencies.js';
import { EngineEvents } from './events.js';
import type { EngineEventType, EngineListener } from './events.js';
import { resolvePolicy } from './policy.js';

/** What observers (health, metrics, status page) read of an engine; not a stable API. */
export interface EngineInternals {
  readonly providers: readonly {
    readonly name: string;
    readonly local: boolean;
    readonly weight: number;
    /** What of a subject the provider looks at (undefined: all of it). */
    readonly facets: readonly SubjectFacet[] | undefined;
  }[];
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  readonly quotas: ReadonlyMap<string, Quota>;
  readonly cache: TieredCache | undefined;
  /** The breaker bus when Redis is configured (`await bus.ready` before relying on it). */
  readonly bus: BreakerBus | undefined;
  readonly events: EngineEvents;
  readonly logger: Logger;
  /** Called with each verdict after it is decided; kept cheap, since it runs per request. */
  readonly verdictObservers: Set<(verdict: Verdict) => void>;
  /**
   * `evaluate` without the promise when every provider answered at once (an L1 hit, a
   * synchronous local provider), so adapters can go on in the same turn. May throw where
   * `evaluate` would reject.
   */
  evaluateNow(subject: Subject, route?: RoutePolicy): Verdict | Promise<Verdict>;
}

const INTERNALS = Symbol.for('formsecurity.engine.internals');

/** The internals of an engine built by `createFormSecurity` (undefined for any other object). */
export function engineInternals(engine: FormSecurity): EngineInternals | undefined {
  return (engine as { [INTERNALS]?: EngineInternals })[INTERNALS];
}

/** Options of `createFormSecurity`; every one has a documented default. */
export interface FormSecurityConfig extends Backends {
  /** The providers to consult (default: none — every verdict is `allow`). */
  readonly providers?: readonly (Provider | ProviderRegistration)[];
  /** Engine-wide route defaults; each route's options override them. */
  readonly policy?: RoutePolicy;
  /** Score thresholds of each decision (default review 0.3, challenge 0.6, block 0.85). */
  readonly thresholds?: Partial<Thresholds>;
  /** Monotonic clock for durations, in milliseconds (default `performance.now`). */
  readonly now?: () => number;
  /** Wall clock for lifetimes, windows and breaker periods, epoch ms (default `Date.now`); tests pass their own. */
  readonly clock?: () => number;
  /** Where state changes are logged (default: winston JSON on stderr at `warn`); always redacted. */
  readonly logger?: Logger;
  /** What may be sent to third-party services (default: whatever each provider's options allow). */
  readonly privacy?: PrivacyOptions;
}

/** One engine: evaluate subjects against providers under one deadline per call. */
export interface FormSecurity {
  /** Never rejects: every failure becomes a signal, every invalid policy a degraded verdict. */
  evaluate(subject: Subject, policy?: RoutePolicy): Promise<Verdict>;
  /** Validates route options at set-up time; throws ConfigurationError naming each wrong key. */
  resolvePolicy(policy?: RoutePolicy): ResolvedPolicy;
  /** The registered providers' names. */
  readonly providers: readonly string[];
  /** Subscribes to state changes (`breaker.open`, `cache.l2.down`, `quota.exhausted`, … or `*`). */
  on<T extends EngineEventType | '*'>(type: T, listener: EngineListener<T>): () => void;
  /**
   * Forwards a moderator's judgement of a submission to every provider that accepts one
   * (Akismet, AbuseIPDB), through the same breakers and quotas, then forgets the
   * subject's cached answers. Never rejects; the caller need not wait for it.
   */
  report(subject: Subject, kind: ReportKind): Promise<Readonly<Record<string, ReportOutcome>>>;
  /**
   * Health of every provider, the cache and the quotas: breaker states, rolling call
   * counts and latency quantiles, quota left, alerts; overall `ok | degraded | down`.
   * Counting starts with the engine's monitor: call `createHealthMonitor(engine)` at
   * set-up (or mount a status endpoint) to count from the start; otherwise the first
   * call here starts it.
   */
  health(): Promise<HealthSnapshot>;
  /** Forgets cached answers about one subject (an erasure request), one provider, or all, in every instance. */
  purge(scope: PurgeScope): Promise<PurgeReport | undefined>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

export type { ProviderRegistration } from './dependencies.js';

function register(entry: Provider | ProviderRegistration): ProviderRegistration {
  return 'provider' in entry ? entry : { provider: entry };
}

/**
 * Builds an engine. Throws ConfigurationError at once for a wrong configuration, so a
 * mistake shows at start-up rather than on the first submission.
 *
 * @example
 * const engine = createFormSecurity({ providers: [myProvider], policy: { budgetMs: 80 } });
 * const verdict = await engine.evaluate({ ip: '203.0.113.7' });
 * if (verdict.decision === 'block') reject();
 */
export function createFormSecurity(options: FormSecurityConfig = {}): FormSecurity {
  // Every option checked at once (one ConfigurationError), warnings logged, privacy applied.
  const { config, logger } = prepareConfig(options);
  const now = config.now ?? (() => performance.now());
  const deadlineTimer = new DeadlineTimer(now);
  const registrations = (config.providers ?? []).map(register);
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...config.thresholds };
  const events = new EngineEvents();
  const names = registrations.map(({ provider }) => provider.name);
  const weights = new Map(registrations.map(({ provider, weight }) => [provider.name, weight ?? provider.defaults?.weight ?? 1]));
  const needsBackends = registrations.some(({ provider }) => provider.local !== true);
  const dependencies = createDependencies(needsBackends ? config : { ...config, cache: false }, events, logger, config.clock);
  const pipelines = new Map<string, ProviderPipeline>(
    registrations.map((registration) => [
      registration.provider.name,
      createProviderPipeline({
        ...createProviderParts(registration, dependencies, config, events, logger, config.clock),
        provider: registration.provider,
        timeoutMs: registration.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        now,
      }),
    ]),
  );
  const defaults = config.policy;
  const resolve = (route?: RoutePolicy): ResolvedPolicy => resolvePolicy(route, defaults, names);
  // Validate the engine-wide defaults now; route policies are validated by the adapters at set-up.
  const basePolicy = resolve();
  const resolved = new WeakMap<RoutePolicy, ResolvedPolicy | ConfigurationError>();

  function policyFor(route: RoutePolicy | undefined): ResolvedPolicy | ConfigurationError {
    if (route === undefined) return basePolicy;
    let policy = resolved.get(route);
    if (policy === undefined) {
      try {
        policy = resolve(route);
      } catch (error) {
        policy = isConfigurationError(error) ? error : new ConfigurationError(['policy: could not be read']);
      }
      resolved.set(route, policy);
    }
    return policy;
  }

  const internals: EngineInternals = {
    providers: registrations.map(({ provider }) => ({
      name: provider.name,
      local: provider.local === true,
      weight: weights.get(provider.name) ?? 1,
      facets: provider.facets,
    })),
    breakers: dependencies.breakers,
    quotas: dependencies.quotas,
    cache: dependencies.cache,
    bus: dependencies.bus,
    events,
    logger,
    verdictObservers: new Set(),
    evaluateNow: (subject, route) => evaluateNow(subject, route),
  };

  function notify(verdict: Verdict): void {
    for (const observer of internals.verdictObservers) {
      try {
        observer(verdict);
      } catch {
        // An observer must never fail a request.
      }
    }
  }

  /** Turns the providers' signals (in `policy.providers` order) into the verdict. */
  function decideVerdict(subject: Subject, policy: ResolvedPolicy, outcomes: readonly Signal[], started: number): Verdict {
    const signals: Record<string, Signal> = {};
    for (let i = 0; i < outcomes.length; i++) signals[policy.providers[i] as string] = outcomes[i] as Signal;
    const result = aggregate(signals, weights, policy, thresholds);
    const reasons = subject.issues === undefined ? result.reasons : [...subject.issues, ...result.reasons];
    const verdict: Verdict = { decision: result.decision, score: result.score, degraded: result.degraded, reasons, signals, durationMs: now() - started };
    if (internals.verdictObservers.size > 0) notify(verdict);
    return verdict;
  }

  function evaluateNow(subject: Subject, route?: RoutePolicy): Verdict | Promise<Verdict> {
    const started = now();
    const policy = policyFor(route);
    if (isConfigurationError(policy)) {
      return {
        decision: basePolicy.onUnavailable,
        score: 0,
        degraded: true,
        reasons: [...policy.issues],
        signals: {},
        durationMs: now() - started,
      };
    }
    const context = new Evaluation(subject, policy, started, now, deadlineTimer);
    try {
      // Each pipeline answers synchronously when it can; the deadline's timer is armed
      // only if one of them has to wait, so a warm request never makes one.
      const outcomes: (Signal | Promise<Signal>)[] = [];
      let waiting = false;
      for (const name of policy.providers) {
        const outcome = (pipelines.get(name) as ProviderPipeline).run(context);
        if (outcome instanceof Promise) waiting = true;
        outcomes.push(outcome);
      }
      context.endSynchronousPass();
      if (!waiting) {
        context.dispose();
        return decideVerdict(subject, policy, outcomes as Signal[], started);
      }
      return Promise.all(outcomes)
        .then((signals) => decideVerdict(subject, policy, signals, started))
        .finally(() => context.dispose());
    } catch (error) {
      context.dispose();
      throw error;
    }
  }

  function evaluate(subject: Subject, route?: RoutePolicy): Promise<Verdict> {
    return promised(() => evaluateNow(subject, route));
  }

  const engine: FormSecurity & { readonly [INTERNALS]: EngineInternals } = {
    [INTERNALS]: internals,
    evaluate,
    resolvePolicy: resolve,
    providers: names,
    on: (type, listener) => events.on(type, listener),
    async report(subject, kind) {
      const outcomes: Record<string, ReportOutcome> = {};
      await Promise.all(
        [...pipelines.values()].map(async (pipeline) => {
          const outcome = await pipeline.report(subject, kind);
          if (outcome !== 'unsupported') outcomes[pipeline.name] = outcome;
        }),
      );
      await dependencies.cache?.purge({ subject }).catch(() => undefined);
      return outcomes;
    },
    async purge(scope) {
      return dependencies.cache?.purge(scope);
    },
    health: () => healthMonitor(engine).snapshot(),
    async close() {
      startedHealthMonitor(engine)?.close();
      deadlineTimer.close();
      await dependencies.close();
    },
  };
  return engine;
}
