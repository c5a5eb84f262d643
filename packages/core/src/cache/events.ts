/**
 * A minimal typed event emitter: listeners are isolated from the cache and from each
 * other, so a throwing listener can never break a lookup.
 */

/** Everything the cache reports, by event name. */
export interface CacheEvents {
  /** L2 stopped answering (or could not start); the cache runs on L1 alone. */
  'l2.down': { readonly reason: string };
  /** L2 answers again. */
  'l2.up': Record<string, never>;
  /** One L2 operation failed; `reason` is an error code or class name, never a message. */
  'l2.error': { readonly operation: string; readonly reason: string };
  /** A purge was applied here; `origin` says whether this instance asked for it. */
  purge: { readonly scope: PurgeScopeKind; readonly origin: 'local' | 'remote'; readonly l1Removed: number };
}

export type PurgeScopeKind = 'subject' | 'provider' | 'all';

export type CacheEventName = keyof CacheEvents;
export type CacheListener<E extends CacheEventName> = (payload: CacheEvents[E]) => void;

export class CacheEventEmitter {
  readonly #listeners = new Map<CacheEventName, Set<(payload: never) => void>>();

  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEvents[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as CacheListener<E>)(payload);
      } catch {
        // A listener's bug is its own; the cache keeps serving.
      }
    }
  }
}

/** A short, secret-free description of a failure: an error code or class name. */
export function reasonOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length <= 64) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'unknown';
}
