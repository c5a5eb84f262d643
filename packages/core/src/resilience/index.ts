/**
 * Resilience: circuit breaker (with pluggable strategies), bulkhead, and breaker
 * state shared across instances over Redis. Each piece is usable alone.
 */

export type { BackoffOptions } from './backoff.js';
export type {
  BreakerCloseEvent,
  BreakerEvents,
  BreakerHalfOpenEvent,
  BreakerOpenEvent,
  BreakerSnapshot,
  BreakerState,
  BreakerStateKind,
  TransitionOrigin,
} from './breaker-state.js';
export { bulkhead, Bulkhead, type BulkheadOptions } from './bulkhead.js';
export {
  circuitBreaker,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type HalfOpenOptions,
  type Permit,
  type RemoteTransition,
} from './circuit-breaker.js';
export { wallClock, type Clock } from './clock.js';
export { consecutiveFailures, type ConsecutiveFailuresOptions } from './consecutive-failures.js';
export { countWindow, type CountWindowOptions } from './count-window.js';
export { isProviderFailure, type FailureFilter } from './error-filter.js';
export {
  createBreakerBus,
  parseBreakerMessage,
  type BreakerBus,
  type BreakerBusOptions,
  type BreakerMessage,
  type BusRedisClient,
} from './redis-bus.js';
export type { BreakerStrategy, RateThresholdOptions } from './strategy.js';
export { timeWindow, type TimeWindowOptions } from './time-window.js';
