/**
 * A circuit breaker per provider: stops calling a provider that keeps failing or is
 * too slow, probes it again after a growing pause, and closes once probes succeed.
 *
 * The engine calls it once per provider per request, so the closed path is a field
 * read and a compare: no closure, promise, timer or clock read is created by the
 * breaker there, and recording an outcome costs O(1) whatever the window size.
 */

import { CircuitOpenError } from '../errors.js';
import { OpenBackoff, type BackoffOptions } from './backoff.js';
import {
  snapshotOf,
  stateFromSnapshot,
  type BreakerEvents,
  type BreakerOpenEvent,
  type BreakerSnapshot,
  type BreakerState,
  type TransitionOrigin,
} from './breaker-state.js';
import { wallClock, type Clock } from './clock.js';
import { consecutiveFailures } from './consecutive-failures.js';
import { isProviderFailure, type FailureFilter } from './error-filter.js';
import { Listeners, type Listener } from './listeners.js';
import { OptionIssues } from './options.js';
import type { BreakerStrategy } from './strategy.js';

declare const permitBrand: unique symbol;

/**
 * Proof that `tryAcquire()` let a call through. Report the call's end with exactly one
 * of `recordSuccess`, `recordFailure` or `release`. It is a plain number (no allocation);
 * outcomes reported with a permit from before the last transition are ignored, so a
 * call that started while closed cannot be mistaken for a half-open probe.
 */
export type Permit = number & { readonly [permitBrand]: true };

export interface HalfOpenOptions {
  /** Probe calls admitted per half-open round (default 1); callers beyond them are rejected at once. */
  readonly probes?: number;
  /** Probe successes that close the breaker, 1..probes (default: all probes). */
  readonly successThreshold?: number;
  /**
   * If every probe was admitted and none has reported back for this long (ms), the
   * round counts as failed (default 10 000): a lost permit must not wedge the breaker half-open.
   */
  readonly probeTimeoutMs?: number;
}

export interface CircuitBreakerOptions {
  /** The provider's name; used in `CircuitOpenError`, events and Redis messages. */
  readonly name: string;
  /** Decides when a closed breaker opens (default `consecutiveFailures({ threshold: 5 })`). One instance per breaker. */
  readonly strategy?: BreakerStrategy;
  /** A call taking at least this many ms counts against the provider even when it succeeds (default: never). */
  readonly slowCallMs?: number;
  readonly halfOpen?: HalfOpenOptions;
  /** How long the breaker stays open, growing with each failed probe round. */
  readonly backoff?: BackoffOptions;
  /** Which errors are provider failures; others are ignored (default `isProviderFailure`). */
  readonly isFailure?: FailureFilter;
  /** A `toJSON()` result to start from. A strategy snapshot that does not fit the strategy is dropped. */
  readonly initialState?: BreakerSnapshot;
  /** The clock (default `wallClock`, epoch ms). Pass a controllable one in tests. */
  readonly now?: Clock;
  /** Source of jitter in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/** A transition another instance announced (see `createBreakerBus`). */
export type RemoteTransition =
  | { readonly state: 'open'; readonly manual: boolean; readonly openMs: number }
  | { readonly state: 'closed'; readonly manual: boolean };

type EventListeners = { readonly [K in keyof BreakerEvents]: Listeners<BreakerEvents[K]> };

type HalfOpenState = Extract<BreakerState, { kind: 'half-open' }>;

const attemptOf = (state: BreakerState): number => (state.kind === 'closed' ? 0 : state.attempt);

export class CircuitBreaker {
  readonly name: string;
  private current: BreakerState;
  /** Bumped on every transition; a permit is the generation it was issued in. */
  private generation = 0;
  private probesAdmitted = 0;
  private probeSuccesses = 0;
  private probeFailures = 0;
  private lastProbeAt = 0;
  private rejection: CircuitOpenError | undefined;
  private openRejection: Promise<never> | undefined;

  private readonly strategy: BreakerStrategy;
  private readonly strategyUsesClock: boolean;
  private readonly slowCallMs: number;
  private readonly probes: number;
  private readonly successThreshold: number;
  private readonly probeTimeoutMs: number;
  private readonly backoff: OpenBackoff;
  private readonly isFailure: FailureFilter;
  private readonly now: Clock;
  private readonly listeners: EventListeners = {
    open: new Listeners(),
    'half-open': new Listeners(),
    close: new Listeners(),
  };

  constructor(options: CircuitBreakerOptions) {
    const issues = new OptionIssues(`circuitBreaker(${String(options.name)})`);
    issues.check(typeof options.name === 'string' && options.name !== '', 'name: expected a non-empty string');
    const { probes = 1, probeTimeoutMs = 10_000 } = options.halfOpen ?? {};
    const successThreshold = options.halfOpen?.successThreshold ?? probes;
    issues.integer('halfOpen.probes', probes, 1, 1_000);
    issues.integer('halfOpen.successThreshold', successThreshold, 1, Math.max(1, probes));
    issues.number('halfOpen.probeTimeoutMs', probeTimeoutMs, 1);
    const slowCallMs = options.slowCallMs ?? Number.POSITIVE_INFINITY;
    issues.check(slowCallMs > 0, `slowCallMs: expected a number > 0, got ${String(slowCallMs)}`);
    this.backoff = new OpenBackoff(options.backoff ?? {}, options.random ?? Math.random, issues);
    this.now = options.now ?? wallClock;
    const restored = options.initialState === undefined ? undefined : stateFromSnapshot(options.initialState);
    issues.check(
      options.initialState === undefined || restored !== undefined,
      'initialState: expected the result of a breaker toJSON() (version 1)',
    );
    issues.throwIfAny();

    this.name = options.name;
    this.strategy = options.strategy ?? consecutiveFailures();
    this.strategyUsesClock = this.strategy.usesClock;
    this.slowCallMs = slowCallMs;
    this.probes = probes;
    this.successThreshold = successThreshold;
    this.probeTimeoutMs = probeTimeoutMs;
    this.isFailure = options.isFailure ?? isProviderFailure;
    this.current = restored ?? { kind: 'closed', since: this.now() };
    if (this.current.kind === 'half-open') this.lastProbeAt = this.now();
    if (options.initialState !== undefined && !this.strategy.restore(options.initialState.strategy)) {
      this.strategy.reset();
    }
  }

  /**
   * The state after the last transition. An open breaker whose period has ended turns
   * half-open at the next `tryAcquire()` (no timers run in the background).
   */
  get state(): BreakerState {
    return this.current;
  }

  /**
   * Asks to make one call. Returns a `Permit`, or `false` when the breaker is open or
   * half-open with every probe slot taken. Never throws and allocates nothing.
   *
   * @example
   * const permit = breaker.tryAcquire();
   * if (permit === false) return circuitOpenSignal();
   * const started = performance.now();
   * try {
   *   const result = await provider.check(subject, { signal });
   *   breaker.recordSuccess(permit, performance.now() - started);
   * } catch (error) {
   *   breaker.recordFailure(permit, error, performance.now() - started);
   * }
   */
  tryAcquire(): Permit | false {
    const state = this.current;
    if (state.kind === 'closed') return this.generation as Permit;
    if (state.kind === 'open') {
      // An isolated breaker has until = Infinity, so this check also keeps it shut.
      if (this.now() < state.until) return false;
      this.enterHalfOpen(state.attempt);
    }
    return this.admitProbe();
  }

  /** Reports that the call behind `permit` succeeded after `durationMs` (used for the slow-call rule). */
  recordSuccess(permit: Permit, durationMs = 0): void {
    if (permit !== this.generation) return;
    this.count(false, durationMs >= this.slowCallMs);
  }

  /**
   * Reports that the call behind `permit` threw `error` after `durationMs`. Errors the
   * failure filter ignores (invalid input, quota answers) count as neither success nor failure.
   */
  recordFailure(permit: Permit, error: unknown, durationMs = 0): void {
    if (permit !== this.generation) return;
    if (!this.countsAsFailure(error)) {
      this.release(permit);
      return;
    }
    this.count(true, durationMs >= this.slowCallMs);
  }

  /**
   * Gives a permit back without an outcome, e.g. when the caller gave up before the
   * provider could answer for reasons that say nothing about the provider. A half-open
   * probe slot becomes free again.
   */
  release(permit: Permit): void {
    if (permit === this.generation && this.current.kind === 'half-open' && this.probesAdmitted > 0) {
      this.probesAdmitted--;
    }
  }

  /**
   * Runs `fn` through the breaker, timing it with the breaker's clock. Rejects with a
   * `CircuitOpenError` when open; that error is one instance per breaker, created once,
   * because capturing a stack per rejection would cost more than the whole breaker.
   *
   * @example
   * const breaker = circuitBreaker({ name: 'ipapi' });
   * const answer = await breaker.execute(() => fetchJson(url, { signal }));
   */
  execute<T>(fn: () => PromiseLike<T> | T): Promise<T> {
    const permit = this.tryAcquire();
    if (permit === false) return this.rejectionWhileOpen();
    return this.run(fn, permit);
  }

  /**
   * The one rejected promise every fast-fail hands out. A promise rejected afresh per call
   * costs about 1.5 µs of Node's rejection tracking (made, then handled); this one was
   * made and handled once. Consequence: ignoring what `execute` returns while the
   * breaker is open raises no `unhandledRejection`.
   */
  private rejectionWhileOpen(): Promise<never> {
    if (this.openRejection === undefined) {
      this.openRejection = Promise.reject(this.openError());
      this.openRejection.catch(() => undefined);
    }
    return this.openRejection;
  }

  private async run<T>(fn: () => PromiseLike<T> | T, permit: Permit): Promise<T> {
    const timed = this.slowCallMs !== Number.POSITIVE_INFINITY;
    const started = timed ? this.now() : 0;
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.recordFailure(permit, error, timed ? this.now() - started : 0);
      throw error;
    }
    this.recordSuccess(permit, timed ? this.now() - started : 0);
    return value;
  }

  /** The error `execute` rejects with while open; the same instance every time. */
  openError(): CircuitOpenError {
    this.rejection ??= new CircuitOpenError(this.name);
    return this.rejection;
  }

  /**
   * Holds the breaker open until `reset()`, whatever calls or probes would say.
   *
   * @example
   * breaker.isolate(); // maintenance window at the provider
   * breaker.reset();   // back in service, window forgotten
   */
  isolate(): void {
    const state = this.current;
    if (state.kind === 'open' && state.isolated) return;
    this.open('isolated', 'local', attemptOf(state), Number.POSITIVE_INFINITY, true);
  }

  /** Closes the breaker and forgets every recorded call and failed probe round. */
  reset(): void {
    if (this.current.kind === 'closed') {
      this.strategy.reset();
      return;
    }
    this.close('reset', 'local');
  }

  /**
   * Applies a transition another instance announced. A remote automatic open never
   * shortens an open period here, and only a manual close (`reset()`) lifts isolation.
   * Transitions applied here carry `origin: 'remote'`, so a bus does not echo them.
   */
  applyRemote(transition: RemoteTransition): void {
    const state = this.current;
    if (transition.state === 'open') {
      if (transition.manual) {
        if (!(state.kind === 'open' && state.isolated)) {
          this.open('isolated', 'remote', attemptOf(state), Number.POSITIVE_INFINITY, true);
        }
      } else if (state.kind !== 'open') {
        this.open('remote', 'remote', attemptOf(state), Math.max(0, transition.openMs), false);
      }
      return;
    }
    if (state.kind === 'closed') return;
    if (state.kind === 'open' && state.isolated && !transition.manual) return;
    this.close(transition.manual ? 'reset' : 'remote', 'remote');
  }

  /**
   * Listens to one kind of transition; returns a function that stops listening.
   * Listeners run synchronously during the transition; one that throws is ignored.
   *
   * @example
   * const stop = breaker.on('open', (event) => log.warn('breaker open', event));
   */
  on<K extends keyof BreakerEvents>(event: K, listener: Listener<BreakerEvents[K]>): () => void {
    return this.listeners[event].add(listener);
  }

  /**
   * Plain-data state for the `initialState` option, e.g. to carry a breaker across
   * serverless invocations. In-flight probes are not part of it.
   */
  toJSON(): BreakerSnapshot {
    return snapshotOf(this.current, this.strategy.toJSON());
  }

  private count(failed: boolean, slow: boolean): void {
    const state = this.current;
    if (state.kind === 'closed') {
      if (this.strategy.record(failed, slow, this.strategyUsesClock ? this.now() : 0)) this.trip('threshold', 0);
    } else if (state.kind === 'half-open') {
      // A slow probe shows the provider has not recovered, even if it answered.
      this.settleProbe(state, !failed && !slow);
    }
  }

  private countsAsFailure(error: unknown): boolean {
    try {
      return this.isFailure(error);
    } catch {
      // A broken filter must not break the call path; counting is the safe side.
      return true;
    }
  }

  private admitProbe(): Permit | false {
    const state = this.current as HalfOpenState;
    if (this.probesAdmitted < this.probes) {
      this.probesAdmitted++;
      this.lastProbeAt = this.now();
      return this.generation as Permit;
    }
    if (this.now() - this.lastProbeAt >= this.probeTimeoutMs) this.trip('probe-stalled', state.attempt + 1);
    return false;
  }

  private settleProbe(state: HalfOpenState, succeeded: boolean): void {
    if (succeeded) {
      if (++this.probeSuccesses >= this.successThreshold) this.close('probes-succeeded', 'local');
    } else if (++this.probeFailures > this.probes - this.successThreshold) {
      this.trip('probe-failed', state.attempt + 1);
    }
  }

  private trip(reason: 'threshold' | 'probe-failed' | 'probe-stalled', attempt: number): void {
    this.open(reason, 'local', attempt, this.backoff.periodMs(attempt), false);
  }

  private open(
    reason: BreakerOpenEvent['reason'],
    origin: TransitionOrigin,
    attempt: number,
    periodMs: number,
    isolated: boolean,
  ): void {
    const at = this.now();
    const until = at + periodMs;
    this.transition({ kind: 'open', since: at, until, attempt, isolated });
    this.listeners.open.emit({ name: this.name, origin, reason, attempt, at, until });
  }

  private enterHalfOpen(attempt: number): void {
    const at = this.now();
    this.transition({ kind: 'half-open', since: at, attempt });
    this.lastProbeAt = at;
    this.listeners['half-open'].emit({ name: this.name, attempt, at });
  }

  private close(reason: 'probes-succeeded' | 'reset' | 'remote', origin: TransitionOrigin): void {
    const at = this.now();
    this.strategy.reset();
    this.transition({ kind: 'closed', since: at });
    this.listeners.close.emit({ name: this.name, origin, reason, at });
  }

  private transition(state: BreakerState): void {
    this.current = state;
    this.generation++;
    this.probesAdmitted = 0;
    this.probeSuccesses = 0;
    this.probeFailures = 0;
  }
}

/**
 * Creates a circuit breaker. Each piece is usable alone; the engine combines it with
 * a bulkhead and a deadline.
 *
 * @example
 * const breaker = circuitBreaker({
 *   name: 'abuseipdb',
 *   strategy: countWindow({ size: 50, minimumCalls: 10, failureRate: 0.5 }),
 *   slowCallMs: 800,
 *   halfOpen: { probes: 3, successThreshold: 2 },
 *   backoff: { initialMs: 5_000, maxMs: 60_000 },
 * });
 * breaker.on('open', ({ reason }) => console.warn('abuseipdb breaker open:', reason));
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}
