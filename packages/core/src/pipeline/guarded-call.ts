import type { CheckContext, Provider, ProviderResult, Subject } from '../contracts.js';
import { BulkheadFullError } from '../errors.js';
import type { Quota } from '../quota/quota.js';
import type { Bulkhead } from '../resilience/bulkhead.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { scrubSubject, validateResult } from './outcome.js';

/** The guards around one provider; each is optional (a local provider has none). */
export interface Guards {
  readonly breaker?: CircuitBreaker;
  readonly quota?: Quota;
  readonly bulkhead?: Bulkhead;
}

/** What one guarded call needs to know about the request that starts it. */
export interface CallRequest {
  readonly subject: Subject;
  /**
   * Fires when the upstream call must stop (the request's deadline, or the provider's
   * own timeout). Read lazily: a provider that never looks at it costs no AbortController.
   */
  readonly signal: AbortSignal;
  readonly highValue: boolean;
  /** The longest the call may wait for a quota or rate slot. */
  readonly maxWaitMs: number;
}

/**
 * The context handed to `check`: it forwards `signal` on access, so an unread signal is
 * never created, and shows the provider nothing else of the request. A class rather than
 * an object literal with a getter, which V8 builds far more slowly on every call.
 */
class ForwardingContext implements CheckContext {
  readonly #request: CallRequest;

  constructor(request: CallRequest) {
    this.#request = request;
  }

  get signal(): AbortSignal {
    return this.#request.signal;
  }
}

/** Calls `check`, turning a synchronous throw into a rejection. */
function invoke(provider: Provider, subject: Subject, request: CallRequest): Promise<unknown> {
  try {
    return Promise.resolve(provider.check(subject, new ForwardingContext(request)));
  } catch (error) {
    return Promise.reject(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * One upstream call through breaker → quota → bulkhead → provider, in that order: an
 * open breaker spends no quota, and a call refused by the quota takes no bulkhead slot.
 * Every guard learns the call's real outcome when it settles, even after the request
 * that started it has stopped waiting, so a late success still counts as one.
 */
export async function guardedCall(
  provider: Provider,
  guards: Guards,
  request: CallRequest,
  now: () => number,
): Promise<ProviderResult> {
  const { breaker, quota, bulkhead } = guards;
  const permit = breaker === undefined ? undefined : breaker.tryAcquire();
  if (permit === undefined && quota === undefined && bulkhead === undefined) return unguarded(provider, request);
  if (permit === false) throw (breaker as CircuitBreaker).openError();

  let quotaPermit;
  try {
    quotaPermit = quota === undefined
      ? undefined
      : await quota.acquire({ highValue: request.highValue, signal: request.signal, maxWaitMs: request.maxWaitMs });
  } catch (error) {
    // Refused before any call: that says nothing about the provider's health.
    if (permit !== undefined) breaker?.release(permit);
    throw error;
  }
  if (bulkhead !== undefined && !bulkhead.tryAcquire()) {
    quotaPermit?.release();
    if (permit !== undefined) breaker?.release(permit);
    throw new BulkheadFullError(provider.name);
  }

  const started = now();
  try {
    const raw = await invoke(provider, request.subject, request);
    const result = scrubSubject(validateResult(provider.name, raw), request.subject);
    if (permit !== undefined) breaker?.recordSuccess(permit, now() - started);
    if (quota !== undefined && result.upstream !== undefined) void quota.observe(result.upstream);
    return result;
  } catch (error) {
    if (permit !== undefined) breaker?.recordFailure(permit, error, now() - started);
    if (quota !== undefined) void quota.observeError(error);
    throw error;
  } finally {
    bulkhead?.release();
    quotaPermit?.release();
  }
}

/** A call with no guards (a local provider): validated and scrubbed, nothing else. */
async function unguarded(provider: Provider, request: CallRequest): Promise<ProviderResult> {
  const raw = await invoke(provider, request.subject, request);
  return scrubSubject(validateResult(provider.name, raw), request.subject);
}

/**
 * A local provider's call. A provider that answers synchronously is answered
 * synchronously (a throw is thrown), so a request that needs nothing remote spends no
 * promise, timer or AbortController on it; a promise is validated when it settles.
 */
export function localCall(provider: Provider, request: CallRequest): ProviderResult | Promise<ProviderResult> {
  const raw: unknown = provider.check(request.subject, new ForwardingContext(request));
  if (isThenable(raw)) return Promise.resolve(raw).then((value) => scrubSubject(validateResult(provider.name, value), request.subject));
  return scrubSubject(validateResult(provider.name, raw), request.subject);
}
