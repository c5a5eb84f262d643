/**
 * Where the resilience code reads the time. Injected everywhere so tests drive time
 * explicitly instead of sleeping.
 */

/** Milliseconds; only differences between two readings matter, except where noted. */
export type Clock = () => number;

/**
 * The default clock: wall-clock epoch milliseconds (`Date.now`). Chosen over
 * `performance.now` because a breaker's serialised state (`toJSON()`) and its Redis
 * messages carry timestamps that must mean the same thing in another process. Open
 * periods last seconds, so millisecond resolution is plenty; a wall-clock step moves
 * at most the one open period in progress.
 */
export const wallClock: Clock = Date.now;
