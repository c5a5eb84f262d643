/**
 * What a fake received, in order, and a way to wait for the n-th arrival: shared by the
 * HTTP fakes' call log and the DNS fake's query log.
 */
export interface ArrivalLog<T> {
  readonly items: readonly T[];
  /** Appends an arrival and wakes whoever waits for it. */
  add(item: T): void;
  /** Resolves with the `count`-th arrival (1-based); rejects after `timeoutMs` naming `what`. */
  waitFor(count: number, timeoutMs: number, what: string): Promise<T>;
  clear(): void;
}

export function createArrivalLog<T>(): ArrivalLog<T> {
  const items: T[] = [];
  const waiters = new Set<{ readonly count: number; readonly resolve: (item: T) => void }>();
  return {
    items,
    add(item) {
      items.push(item);
      for (const waiter of waiters) {
        if (items.length >= waiter.count) {
          waiters.delete(waiter);
          waiter.resolve(items[waiter.count - 1] as T);
        }
      }
    },
    waitFor(count, timeoutMs, what) {
      if (items.length >= count) return Promise.resolve(items[count - 1] as T);
      return new Promise((resolve, reject) => {
        const waiter = {
          count,
          resolve: (item: T) => {
            clearTimeout(timer);
            resolve(item);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${what} ${count} did not arrive within ${timeoutMs} ms (got ${items.length})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    clear() {
      items.length = 0;
    },
  };
}
