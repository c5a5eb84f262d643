/**
 * Runs `work`, which may answer at once or later, and hands its answer back as a promise
 * either way: a plain value resolved, a synchronous throw as a rejection. For the
 * promise-returning twins of the engine's and the gate's synchronous fast paths.
 */
export function promised<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    const answer = work();
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  } catch (error) {
    return Promise.reject(error);
  }
}
