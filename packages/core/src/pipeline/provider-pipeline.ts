import type { Provider, ResolvedPolicy, Signal, Subject } from '../contracts.js';
import type { Deadline } from '../engine/deadline.js';
import { TimeoutError } from '../errors.js';
import { failureSignal, resultSignal, validateResult } from './outcome.js';

/** Everything one provider's guarded call needs from the engine. */
export interface PipelineContext {
  readonly subject: Subject;
  readonly deadline: Deadline;
  readonly policy: ResolvedPolicy;
}

/** One provider's path through the engine: facet check, call under the deadline, outcome. */
export interface ProviderPipeline {
  readonly name: string;
  run(context: PipelineContext): Promise<Signal>;
}

const TIMED_OUT = Symbol('timed out');

function hasFacet(provider: Provider, subject: Subject): boolean {
  if (provider.facets === undefined) return true;
  return provider.facets.some((facet) => subject[facet] !== undefined);
}

/** Calls `check`, turning a synchronous throw into a rejection. */
function invoke(provider: Provider, subject: Subject, signal: AbortSignal): Promise<unknown> {
  try {
    return Promise.resolve(provider.check(subject, { signal }));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Waits for a call or the deadline, whichever comes first. The call keeps running after
 * the deadline (its socket is aborted through the signal); its late outcome is ignored
 * here, and its rejection is already handled by the race.
 */
export async function raceDeadline<T>(call: Promise<T>, deadline: Deadline): Promise<T> {
  const outcome = await Promise.race([call, deadline.expired.then(() => TIMED_OUT)]);
  if (outcome === TIMED_OUT) throw new TimeoutError(`no answer within ${deadline.budgetMs} ms`);
  return outcome as T;
}

export function createProviderPipeline(provider: Provider, now: () => number): ProviderPipeline {
  const name = provider.name;
  return {
    name,
    async run({ subject, deadline }: PipelineContext): Promise<Signal> {
      if (!hasFacet(provider, subject)) {
        return { status: 'skipped', reasons: [`${name}: nothing to check`], latencyMs: 0 };
      }
      const started = now();
      try {
        const raw = await raceDeadline(invoke(provider, subject, deadline.signal), deadline);
        return resultSignal('fresh', validateResult(name, raw), now() - started);
      } catch (error) {
        return failureSignal(name, error, now() - started);
      }
    },
  };
}
