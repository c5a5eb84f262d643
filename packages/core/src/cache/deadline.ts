/**
 * Waiting for a fetch no longer than the caller is willing to. Only the wait ends:
 * the fetch itself carries on and still fills the cache.
 */
import { TimeoutError } from '../errors.js';

export interface WaitOptions {
  /** Stop waiting after this many milliseconds. */
  readonly timeoutMs?: number;
  /** Stop waiting when this fires (the request's deadline). */
  readonly signal?: AbortSignal;
}

/** Resolves like `work`, or rejects with a TimeoutError when the wait ends first. */
export function waitAtMost<T>(work: Promise<T>, { timeoutMs, signal }: WaitOptions): Promise<T> {
  if (timeoutMs === undefined && signal === undefined) return work;
  if (signal?.aborted === true) return Promise.reject(new TimeoutError());
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = (): void => {
      cleanup();
      reject(new TimeoutError());
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    };
    if (timeoutMs !== undefined) timer = setTimeout(stop, timeoutMs);
    signal?.addEventListener('abort', stop, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
