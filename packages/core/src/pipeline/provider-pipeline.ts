import type { Provider, ProviderResult, ReportKind, ResolvedPolicy, Signal, Subject } from '../contracts.js';
import type { CacheEntry } from '../cache/index.js';
import type { DigestMemo, ProviderCache } from '../cache/index.js';
import type { Deadline } from '../engine/deadline.js';
import { ErrorCodes, TimeoutError, isFormSecurityError } from '../errors.js';
import { guardedCall, localCall } from './guarded-call.js';
import type { CallRequest, Guards } from './guarded-call.js';
import { failureSignal, resultSignal } from './outcome.js';

/** Everything one provider's guarded call needs from the engine. */
export interface PipelineContext {
  readonly subject: Subject;
  /** Each facet's cache digest, computed once per evaluation for all providers. */
  readonly digests: DigestMemo;
  /** Start of the evaluation on the engine's clock. */
  readonly startedAt: number;
  /** The evaluation's one deadline, made on first use: an answer from cache needs none. */
  readonly deadline: Deadline;
  readonly policy: ResolvedPolicy;
  /**
   * The cache's clock and the time since the start, for answers from cache. Within the
   * evaluation's synchronous pass each is read once and shared (the answers are
   * microseconds apart, and each reading costs about 200 ns on some machines);
   * afterwards they are read fresh.
   */
  cacheNow(cache: { now(): number }): number;
  cacheAnswerElapsedMs(): number;
}

/** How forwarding one moderator judgement to one provider went. */
export type ReportOutcome = 'sent' | 'unsupported' | { readonly failed: string };

/**
 * One provider's path through the engine: cache → single-flight → guards → provider.
 * `run` answers synchronously whenever it can (an L1 hit, a local provider that answers
 * synchronously), so a warm request is decided without a promise per provider.
 */
export interface ProviderPipeline {
  readonly name: string;
  /** Never throws or rejects: every failure becomes a signal. */
  run(context: PipelineContext): Signal | Promise<Signal>;
  /** Forwards a judgement through the same breaker and quota as checks; never rejects. */
  report(subject: Subject, kind: ReportKind): Promise<ReportOutcome>;
}

export interface PipelineOptions extends Guards {
  readonly provider: Provider;
  /** Absent for local providers and when caching is off. */
  readonly cache?: ProviderCache<ProviderResult>;
  /** Longest one upstream call may run when a cache can take its late answer (ms). */
  readonly timeoutMs: number;
  readonly now: () => number;
}

const TIMED_OUT = Symbol('timed out');

function hasFacet(provider: Provider, subject: Subject): boolean {
  if (provider.facets === undefined) return true;
  return provider.facets.some((facet) => subject[facet] !== undefined);
}

/**
 * One provider call's view of the request. The signal (the request's deadline, or the
 * call's own timeout when a cache can use a late answer) and the time left are worked
 * out only when something asks: a provider that never reads its signal costs no
 * AbortController, and a local one no clock reading.
 */
class PipelineRequest implements CallRequest {
  readonly #context: PipelineContext;
  readonly #ownTimeoutMs: number | undefined;
  #signal: AbortSignal | undefined;
  #ownTimer: NodeJS.Timeout | undefined;

  constructor(context: PipelineContext, ownTimeoutMs: number | undefined) {
    this.#context = context;
    this.#ownTimeoutMs = ownTimeoutMs;
  }

  /**
   * Stops the call's own timer once the call has settled. (`AbortSignal.timeout` cannot be
   * stopped: its timer and signal would live for the whole timeout, seconds after a call
   * that took milliseconds, and most would be copied into the old generation.)
   */
  dispose(): void {
    if (this.#ownTimer !== undefined) clearTimeout(this.#ownTimer);
  }

  get subject(): Subject {
    return this.#context.subject;
  }

  get signal(): AbortSignal {
    this.#signal ??= this.#ownTimeoutMs === undefined ? this.#context.deadline.signal : this.#ownSignal(this.#ownTimeoutMs);
    return this.#signal;
  }

  #ownSignal(timeoutMs: number): AbortSignal {
    const controller = new AbortController();
    this.#ownTimer = setTimeout(() => controller.abort(new TimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    this.#ownTimer.unref();
    return controller.signal;
  }

  get highValue(): boolean {
    return this.#context.policy.highValue;
  }

  get maxWaitMs(): number {
    return this.#context.deadline.remainingMs();
  }
}

/**
 * Waits for a call or the deadline, whichever comes first. The call keeps running after
 * the deadline; its late outcome is ignored here (the race has already handled its
 * rejection), while the cache and the guards still learn it.
 */
export async function raceDeadline<T>(call: Promise<T>, deadline: Deadline): Promise<T> {
  const outcome = await Promise.race([call, deadline.expired.then(() => TIMED_OUT)]);
  if (outcome === TIMED_OUT) throw new TimeoutError(`no answer within ${deadline.budgetMs} ms`);
  return outcome as T;
}

/**
 * Builds the pipeline of one provider.
 *
 * Without a cache, the upstream call gets the request's deadline signal: nothing would
 * use a late answer, so the socket closes at the deadline. With a cache, the call gets
 * its own `timeoutMs` signal instead, so an answer that arrives after this request gave
 * up still fills the cache for the next one (and single-flight lets one call serve
 * every request that asks meanwhile).
 */
export function createProviderPipeline(options: PipelineOptions): ProviderPipeline {
  const { provider, cache, timeoutMs, now } = options;
  const name = provider.name;
  const guards: Guards = options;

  const call = (request: PipelineRequest): ProviderResult | Promise<ProviderResult> =>
    provider.local === true ? localCall(provider, request) : guardedCall(provider, guards, request, now);

  /** A call for the cache, on its own timeout, so a late answer still fills it. */
  const callForCache = async (context: PipelineContext): Promise<ProviderResult> => {
    const request = new PipelineRequest(context, timeoutMs);
    try {
      return await call(request);
    } finally {
      request.dispose();
    }
  };

  /** No cache: the call itself, raced against the deadline unless it answered at once. */
  function uncached(context: PipelineContext, started: number): Signal | Promise<Signal> {
    let pending: Promise<ProviderResult>;
    try {
      const answer = call(new PipelineRequest(context, undefined));
      if (!(answer instanceof Promise)) return resultSignal('fresh', answer, now() - started);
      pending = answer;
    } catch (error) {
      return failureSignal(name, error, now() - started);
    }
    return raceDeadline(pending, context.deadline).then(
      (result) => resultSignal('fresh', result, now() - started),
      (error: unknown) => failureSignal(name, error, now() - started),
    );
  }

  /** A fresh L1 entry answers synchronously; L2, refreshes and fetches take their time. */
  function cached(
    providerCache: ProviderCache<ProviderResult>,
    key: string,
    context: PipelineContext,
    started: number,
  ): Signal | Promise<Signal> {
    const clock = context.cacheNow(providerCache);
    const found = providerCache.lookup(key, clock);
    if (found instanceof Promise) {
      return found.then(
        (entry) => settle(providerCache, key, entry, context, started, providerCache.now()),
        (error: unknown) => failureSignal(name, error, now() - started),
      );
    }
    return settle(providerCache, key, found, context, started, clock);
  }

  function settle(
    providerCache: ProviderCache<ProviderResult>,
    key: string,
    entry: CacheEntry<ProviderResult> | undefined,
    context: PipelineContext,
    started: number,
    clock: number,
  ): Signal | Promise<Signal> {
    const freshness = entry === undefined ? 'expired' : providerCache.freshness(entry, clock);
    if (entry !== undefined && freshness === 'fresh') {
      return resultSignal('cached', entry.value, context.cacheAnswerElapsedMs(), providerCache.ageOf(entry, clock));
    }
    // Built only when the cache cannot answer alone: a hit allocates no closure.
    const fetcher = (): Promise<ProviderResult> => callForCache(context);
    if (entry !== undefined && freshness === 'refresh') {
      providerCache.refresh(key, fetcher, entry);
      return resultSignal('cached', entry.value, context.cacheAnswerElapsedMs(), providerCache.ageOf(entry, clock));
    }
    return fetched(providerCache, key, fetcher, entry, context, started);
  }

  async function fetched(
    providerCache: ProviderCache<ProviderResult>,
    key: string,
    fetcher: () => Promise<ProviderResult>,
    entry: CacheEntry<ProviderResult> | undefined,
    context: PipelineContext,
    started: number,
  ): Promise<Signal> {
    try {
      const result = await raceDeadline(providerCache.fetch(key, fetcher, entry), context.deadline);
      return resultSignal('fresh', result.value, now() - started);
    } catch (error) {
      const stale = context.policy.acceptStale ? providerCache.staleResult(entry, error) : undefined;
      if (stale !== undefined) {
        const signal = resultSignal('stale', stale.value, now() - started, stale.ageMs);
        return { ...signal, reasons: [...signal.reasons, `${name}: served from cache while unavailable`] };
      }
      return failureSignal(name, error, now() - started);
    }
  }

  /** A provider-shaped view of `report`, so feedback goes through the very same guards. */
  const reporter = (kind: ReportKind): Provider => ({
    name,
    async check(subject, context) {
      await provider.report?.(subject, kind, context);
      return { score: 0 };
    },
  });

  return {
    name,
    async report(subject, kind) {
      if (provider.report === undefined) return 'unsupported';
      try {
        const request = { subject, signal: AbortSignal.timeout(timeoutMs), highValue: true, maxWaitMs: timeoutMs };
        await guardedCall(reporter(kind), guards, request, now);
        return 'sent';
      } catch (error) {
        return { failed: isFormSecurityError(error) ? error.code : ErrorCodes.providerFailure };
      }
    },
    run(context) {
      if (!hasFacet(provider, context.subject)) {
        return { status: 'skipped', reasons: [`${name}: nothing to check`], latencyMs: 0 };
      }
      // Every provider starts when the evaluation does: one clock reading serves them all.
      const started = context.startedAt;
      const key = cache?.keyFor(context.subject, provider.facets, context.digests);
      if (cache === undefined || key === undefined) return uncached(context, started);
      return cached(cache, key, context, started);
    },
  };
}
