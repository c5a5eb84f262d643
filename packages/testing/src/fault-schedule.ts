/**
 * The fault-injection state a non-HTTP fake keeps: the fault in force, how many more
 * requests it applies to, and an added latency. Same contract as the HTTP fakes'
 * `faults` handle, so tests drive every fake the same way.
 */
import type { FaultControl } from './fake-http-server.js';

/** A fault control plus the fake's side: taking the fault for one request. */
export interface FaultSchedule<F extends { readonly kind: string }> extends FaultControl<F> {
  /** The fault that applies to the request now arriving (consuming one use), if any. */
  take(): F | undefined;
  /** The latency in force, in milliseconds. */
  readonly latencyMs: number;
}

/**
 * Creates an empty schedule.
 *
 * @example
 * const faults = createFaultSchedule<DnsFault>();
 * faults.inject({ kind: 'servfail' }, { times: 1 });
 * faults.take(); // { kind: 'servfail' }
 * faults.take(); // undefined
 */
export function createFaultSchedule<F extends { readonly kind: string }>(): FaultSchedule<F> {
  let fault: F | undefined;
  let usesLeft = Number.POSITIVE_INFINITY;
  let latencyMs = 0;
  return {
    get current() {
      return fault;
    },
    get latencyMs() {
      return latencyMs;
    },
    take() {
      if (fault === undefined) return undefined;
      const current = fault;
      usesLeft -= 1;
      if (usesLeft <= 0) fault = undefined;
      return current;
    },
    inject(next, options) {
      const times = options?.times;
      if (times !== undefined && !(Number.isInteger(times) && times > 0)) {
        throw new RangeError('fake: times must be a positive integer');
      }
      fault = next;
      usesLeft = times ?? Number.POSITIVE_INFINITY;
    },
    latency(ms) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError('fake: latency must be a non-negative number');
      latencyMs = ms;
    },
    clear() {
      fault = undefined;
      usesLeft = Number.POSITIVE_INFINITY;
      latencyMs = 0;
    },
  };
}
