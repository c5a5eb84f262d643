/**
 * Checks a recorded stream of breaker events against the breaker's configuration: the
 * order of transitions, and how long each open period lasted.
 */
import type { EngineEvent } from '@formsecurity/core';

/** An engine event with the wall-clock time it was received (events are emitted synchronously). */
export interface TimedEvent {
  readonly at: number;
  readonly event: EngineEvent;
}

export interface BreakerConfig {
  /** The first open period, in ms. */
  readonly initialMs: number;
  /** The longest open period, in ms. */
  readonly maxMs: number;
}

type BreakerEvent = Extract<EngineEvent, { type: 'breaker.open' | 'breaker.half-open' | 'breaker.close' }>;

const isBreakerEvent = (event: EngineEvent): event is BreakerEvent => event.type.startsWith('breaker.');

/** Milliseconds a timestamp may be off: Date.now() resolution plus the time to deliver the event. */
const CLOCK_TOLERANCE_MS = 25;

/**
 * Returns every violation found (empty when the stream is as configured):
 * - a provider's first event must be an `open` for reason `threshold`;
 * - `half-open` only after an `open`, and no sooner than its `untilMs`;
 * - after `half-open`, only `close` or `open` (a failed probe);
 * - `close` only from `half-open` (a local breaker closes after probes succeed);
 * - every local open period lasts between `initialMs` and `maxMs`.
 *
 * @example
 * expect(auditBreakers(events, { initialMs: 1000, maxMs: 2000 })).toEqual([]);
 */
export function auditBreakers(events: readonly TimedEvent[], config: BreakerConfig): string[] {
  const violations: string[] = [];
  const last = new Map<string, { readonly event: BreakerEvent; readonly at: number }>();
  for (const { at, event } of events) {
    if (!isBreakerEvent(event)) continue;
    const previous = last.get(event.provider);
    const where = `${event.provider} ${event.type} at +${at}`;
    if (event.type === 'breaker.open') {
      if (previous === undefined && event.reason !== 'threshold') violations.push(`${where}: first open for reason ${event.reason}`);
      if (previous?.event.type === 'breaker.open') violations.push(`${where}: opened twice in a row`);
      const period = event.untilMs - at;
      if (event.origin === 'local' && (period < config.initialMs - CLOCK_TOLERANCE_MS || period > config.maxMs + CLOCK_TOLERANCE_MS)) {
        violations.push(`${where}: open for ${period} ms, expected ${config.initialMs}..${config.maxMs}`);
      }
    } else if (event.type === 'breaker.half-open') {
      if (previous?.event.type !== 'breaker.open') violations.push(`${where}: half-open without a preceding open`);
      else if (previous.event.type === 'breaker.open' && at < previous.event.untilMs - CLOCK_TOLERANCE_MS) {
        violations.push(`${where}: half-open ${previous.event.untilMs - at} ms before the open period ended`);
      }
    } else if (previous?.event.type !== 'breaker.half-open' && event.origin === 'local') {
      violations.push(`${where}: closed from ${previous?.event.type ?? 'nothing'}`);
    }
    last.set(event.provider, { event, at });
  }
  return violations;
}

/** Transitions per provider, e.g. `{ stopforumspam: ['open', 'half-open', 'close'] }`. */
export function breakerHistory(events: readonly TimedEvent[]): Record<string, string[]> {
  const history: Record<string, string[]> = {};
  for (const { event } of events) {
    if (!isBreakerEvent(event)) continue;
    (history[event.provider] ??= []).push(event.type.slice('breaker.'.length));
  }
  return history;
}
