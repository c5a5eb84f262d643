import type { Provider, ProviderResult, ReportKind, ResolvedPolicy, Signal, Subject } from '../contracts.js';
import type { CacheEntry } from '../cache/index.js';
import type { DigestMemo, ProviderCache } from '../cache/index.js';
import type { Deadline } from '../engine/deadline.js';
import { ErrorCodes, TimeoutError, isFormSecurityError } from '../errors.js';
import { guardedCall } from './guarded-call.js';
import type { Guards } from './guarded-call.js';
import { failureSignal, resultSignal } from './outcome.js';

/** Everything one provider's guarded call needs from the engine. */
export interface PipelineContext {
  readonly subject: Subject;
  /** Each facet's cache digest, computed once per evaluation for all providers. */
  readonly digests: DigestMemo;
  readonly deadline: Deadline;
  readonly policy: ResolvedPolicy;
}

/** How forwarding one moderator judgement to one provider went. */
export type ReportOutcome = 'sent' | 'unsupported' | { readonly failed: string };

/** One provider's path through the engine: cache → single-flight → guards → provider. */
export interface ProviderPipeline {
  readonly name: string;
  run(context: PipelineContext): Promise<Signal>;
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

  /** `signal` is a thunk so that a provider that never reads it costs no AbortController. */
  const call = (subject: Subject, makeSignal: () => AbortSignal, context: PipelineContext): Promise<ProviderResult> => {
    let signal: AbortSignal | undefined;
    return guardedCall(provider, guards, {
      subject,
      get signal() {
        return (signal ??= makeSignal());
      },
      highValue: context.policy.highValue,
      maxWaitMs: context.deadline.remainingMs(),
    }, now);
  };

  async function uncached(context: PipelineContext, started: number): Promise<Signal> {
    try {
      const result = await raceDeadline(call(context.subject, () => context.deadline.signal, context), context.deadline);
      return resultSignal('fresh', result, now() - started);
    } catch (error) {
      return failureSignal(name, error, now() - started);
    }
  }

  async function cached(
    providerCache: ProviderCache<ProviderResult>,
    key: string,
    context: PipelineContext,
    started: number,
  ): Promise<Signal> {
    const found = providerCache.lookup(key);
    const entry: CacheEntry<ProviderResult> | undefined = found instanceof Promise ? await found : found;
    const freshness = entry === undefined ? 'expired' : providerCache.freshness(entry);
    if (entry !== undefined && freshness === 'fresh') {
      return resultSignal('cached', entry.value, now() - started, providerCache.ageOf(entry));
    }
    // Built only when the cache cannot answer alone: a hit allocates no closure.
    const fetcher = (): Promise<ProviderResult> => call(context.subject, () => AbortSignal.timeout(timeoutMs), context);
    if (entry !== undefined && freshness === 'refresh') {
      providerCache.refresh(key, fetcher, entry);
      return resultSignal('cached', entry.value, now() - started, providerCache.ageOf(entry));
    }
    try {
      const fetched = await raceDeadline(providerCache.fetch(key, fetcher, entry), context.deadline);
      return resultSignal('fresh', fetched.value, now() - started);
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
    async run(context) {
      if (!hasFacet(provider, context.subject)) {
        return { status: 'skipped', reasons: [`${name}: nothing to check`], latencyMs: 0 };
      }
      const started = now();
      const key = cache?.keyFor(context.subject, provider.facets, context.digests);
      if (cache === undefined || key === undefined) return uncached(context, started);
      return cached(cache, key, context, started);
    },
  };
}
