import type { QuotaEvent } from '../quota/options.js';

/**
 * What happened to the engine's dependencies, named after what happened. One event per
 * state change, never one per request.
 */
export type EngineEvent =
  | { readonly type: 'breaker.open'; readonly provider: string; readonly reason: string; readonly origin: 'local' | 'remote'; readonly untilMs: number }
  | { readonly type: 'breaker.half-open'; readonly provider: string }
  | { readonly type: 'breaker.close'; readonly provider: string; readonly reason: string; readonly origin: 'local' | 'remote' }
  | { readonly type: 'cache.l2.down'; readonly reason: string }
  | { readonly type: 'cache.l2.up' }
  | QuotaEvent;

export type EngineEventType = EngineEvent['type'];
export type EngineEventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;
export type EngineListener<T extends EngineEventType | '*'> = (
  event: T extends EngineEventType ? EngineEventOf<T> : EngineEvent,
) => void;

/** A small typed emitter; a throwing listener never reaches the code that emitted. */
export class EngineEvents {
  private readonly listeners = new Map<string, Set<(event: EngineEvent) => void>>();

  on<T extends EngineEventType | '*'>(type: T, listener: EngineListener<T>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    const entry = listener as (event: EngineEvent) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  emit(event: EngineEvent): void {
    for (const type of [event.type, '*']) {
      for (const listener of this.listeners.get(type) ?? []) {
        try {
          listener(event);
        } catch {
          // Observers must not break the engine.
        }
      }
    }
  }
}
