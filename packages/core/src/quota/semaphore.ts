/**
 * A counting semaphore for one provider's concurrent calls in this process. Waiters are
 * served first come, first served, and each gives up at its own deadline or abort.
 */

interface Waiter {
  grant(): void;
}

/** Why a wait for a slot ended without one. */
export type SlotRefusal = 'timeout' | 'aborted' | 'closed';

export class SlotRefusedError extends Error {
  readonly reason: SlotRefusal;

  constructor(reason: SlotRefusal, options?: { cause?: unknown }) {
    super(`no concurrency slot: ${reason}`, options);
    this.reason = reason;
  }
}

export class Semaphore {
  readonly max: number;
  #inUse = 0;
  #closed = false;
  readonly #queue = new Set<Waiter>();
  readonly #closeListeners = new Set<() => void>();

  constructor(max: number) {
    this.max = max;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#queue.size;
  }

  /** Takes a slot now if one is free (and nobody is queued ahead). */
  tryTake(): boolean {
    if (this.#closed || this.#inUse >= this.max || this.#queue.size > 0) return false;
    this.#inUse += 1;
    return true;
  }

  /** Waits up to `maxWaitMs` for a slot; rejects with SlotRefusedError. */
  take(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    if (this.#closed) return Promise.reject(new SlotRefusedError('closed'));
    if (signal?.aborted === true) return Promise.reject(new SlotRefusedError('aborted', { cause: signal.reason }));
    if (maxWaitMs <= 0) return Promise.reject(new SlotRefusedError('timeout'));

    return new Promise<void>((resolve, reject) => {
      const settle = (error?: SlotRefusedError): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#queue.delete(waiter);
        this.#closeListeners.delete(onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const waiter: Waiter = { grant: () => settle() };
      const onAbort = (): void => settle(new SlotRefusedError('aborted', { cause: signal?.reason }));
      const onClose = (): void => settle(new SlotRefusedError('closed'));
      const timer = setTimeout(() => settle(new SlotRefusedError('timeout')), maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#closeListeners.add(onClose);
      this.#queue.add(waiter);
    });
  }

  release(): void {
    // The slot passes straight to the oldest waiter, so a newcomer cannot overtake it.
    const next = this.#queue.values().next();
    if (!next.done) {
      next.value.grant();
      return;
    }
    this.#inUse = Math.max(0, this.#inUse - 1);
  }

  /** Refuses every waiter and every later request. */
  close(): void {
    this.#closed = true;
    for (const listener of [...this.#closeListeners]) listener();
  }
}
