/**
 * The health monitor's alerts: the engine's state changes worth telling someone about,
 * plus the monitor's own (`quota.low`, `provider.degraded`, `provider.recovered`),
 * de-duplicated with a cool-down per kind and subject so a flapping provider cannot
 * flood a chat channel.
 */
import type { EngineEventOf } from '../engine/events.js';

/** An alert before it is stamped and de-duplicated. */
export type AlertEvent =
  | EngineEventOf<'breaker.open'>
  | EngineEventOf<'breaker.half-open'>
  | EngineEventOf<'breaker.close'>
  | EngineEventOf<'quota.exhausted'>
  | EngineEventOf<'cache.l2.down'>
  | EngineEventOf<'cache.l2.up'>
  | {
      readonly type: 'quota.low';
      readonly provider: string;
      /** e.g. `daily calls`, `monthly spend`. */
      readonly window: string;
      readonly remaining: number;
      readonly limit: number;
      readonly resetAtMs: number;
    }
  | {
      readonly type: 'provider.degraded' | 'provider.recovered';
      readonly provider: string;
      /** Share of failed calls among those that decided the change. */
      readonly failureRate: number;
      readonly calls: number;
    };

/** An alert as subscribers receive it. */
export type HealthEvent = AlertEvent & {
  /** When it happened (epoch ms, the monitor's clock). */
  readonly at: number;
  /** How many more times it happened during the cool-down before this notice, without a notice of their own. */
  readonly repeated: number;
};

export type HealthEventType = AlertEvent['type'];
export type HealthListener = (event: HealthEvent) => void;

/** Every alert type, in the order the status page documents them. */
export const HEALTH_EVENT_TYPES: readonly HealthEventType[] = [
  'breaker.open',
  'breaker.half-open',
  'breaker.close',
  'quota.low',
  'quota.exhausted',
  'provider.degraded',
  'provider.recovered',
  'cache.l2.down',
  'cache.l2.up',
];

const ALERT_TYPES: ReadonlySet<string> = new Set(HEALTH_EVENT_TYPES);

/** Whether an engine event is one the monitor passes on. */
export function isAlert(event: { readonly type: string }): event is AlertEvent {
  return ALERT_TYPES.has(event.type);
}

/** What an alert is about: a provider (and quota window), or the cache. */
function subjectOf(event: AlertEvent): string {
  if (!('provider' in event)) return 'cache';
  return 'window' in event ? `${event.provider}|${event.window}` : event.provider;
}

/** Alerts of one family describe one state (open/half-open/close; degraded/recovered; …). */
function familyOf(event: AlertEvent): string {
  return `${event.type.slice(0, event.type.lastIndexOf('.'))}|${subjectOf(event)}`;
}

interface Held {
  event: AlertEvent;
  at: number;
  count: number;
  sequence: number;
}

export interface AlertStreamOptions {
  /** The shortest time between two notices of one kind about one subject (ms). */
  readonly cooldownMs: number;
  /** How many notices `recent()` keeps. */
  readonly keep: number;
}

/**
 * Stamps, de-duplicates and fans out alerts; keeps the latest ones for the status page.
 *
 * Within the cool-down, a repeated alert is held back and counted. When the cool-down
 * ends (`flush`), the last one held back is sent with the count, unless a later alert
 * of its family has changed the state since: subscribers always end up knowing the
 * current state, without a notice per flap.
 *
 * @example
 * const stream = new AlertStream({ cooldownMs: 300_000, keep: 50 });
 * stream.on('breaker.open', (event) => page(event));
 * stream.publish({ type: 'breaker.half-open', provider: 'ipapi' }, Date.now());
 */
export class AlertStream {
  private readonly listeners = new Map<string, Set<HealthListener>>();
  private readonly lastSent = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  private readonly latestOfFamily = new Map<string, number>();
  private readonly kept: HealthEvent[] = [];
  private sequence = 0;

  constructor(private readonly options: AlertStreamOptions) {}

  on(type: HealthEventType | '*', listener: HealthListener): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  publish(event: AlertEvent, at: number): void {
    const key = `${event.type}|${subjectOf(event)}`;
    const sequence = ++this.sequence;
    this.latestOfFamily.set(familyOf(event), sequence);
    const sent = this.lastSent.get(key);
    const held = this.held.get(key);
    if (sent !== undefined && at - sent < this.options.cooldownMs) {
      this.held.set(key, { event, at, count: (held?.count ?? 0) + 1, sequence });
      return;
    }
    this.held.delete(key);
    this.send(key, event, at, held?.count ?? 0);
  }

  /** Sends what the cool-downs ending by `at` held back (see the class comment). */
  flush(at: number): void {
    for (const [key, held] of this.held) {
      if (at - (this.lastSent.get(key) ?? Number.NEGATIVE_INFINITY) < this.options.cooldownMs) continue;
      this.held.delete(key);
      if (this.latestOfFamily.get(familyOf(held.event)) === held.sequence) this.send(key, held.event, held.at, held.count - 1);
    }
  }

  /** The latest notices, newest first. */
  recent(): readonly HealthEvent[] {
    return [...this.kept].reverse();
  }

  private send(key: string, event: AlertEvent, at: number, repeated: number): void {
    const stamped: HealthEvent = { ...event, at, repeated };
    this.lastSent.set(key, at);
    this.kept.push(stamped);
    if (this.kept.length > this.options.keep) this.kept.shift();
    for (const type of [event.type, '*']) {
      for (const listener of this.listeners.get(type) ?? []) {
        try {
          listener(stamped);
        } catch {
          // A subscriber must never break the monitor or the engine that emitted.
        }
      }
    }
  }
}

/**
 * One line for people: chat messages, the status page.
 *
 * @example
 * describeEvent({ type: 'breaker.half-open', provider: 'ipapi', at: 0, repeated: 0 }); // 'ipapi: breaker half-open, probing'
 */
export function describeEvent(event: HealthEvent): string {
  const again = event.repeated > 0 ? ` (${event.repeated} more during the cool-down)` : '';
  const percent = (share: number): string => `${Math.round(share * 100)} %`;
  switch (event.type) {
    case 'breaker.open':
      return `${event.provider}: breaker open (${event.reason})${again}`;
    case 'breaker.half-open':
      return `${event.provider}: breaker half-open, probing${again}`;
    case 'breaker.close':
      return `${event.provider}: breaker closed (${event.reason})${again}`;
    case 'quota.low':
      return `${event.provider}: ${event.window} quota low, ${event.remaining} of ${event.limit} left${again}`;
    case 'quota.exhausted':
      return `${event.provider}: ${event.window} quota ${event.reserveOnly ? 'down to its reserve' : 'used up'}${again}`;
    case 'provider.degraded':
      return `${event.provider}: degraded, ${percent(event.failureRate)} of ${event.calls} calls failed${again}`;
    case 'provider.recovered':
      return `${event.provider}: recovered, ${percent(event.failureRate)} of ${event.calls} calls failed${again}`;
    case 'cache.l2.down':
      return `cache L2 down (${event.reason}): serving from L1 only${again}`;
    case 'cache.l2.up':
      return `cache L2 up${again}`;
  }
}
