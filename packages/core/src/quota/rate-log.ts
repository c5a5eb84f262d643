/**
 * A sliding log of call times for one rate limit ("at most `limit` calls in any
 * `windowMs`"). Callers book a slot that may lie in the future and wait for it: a burst
 * is spread out instead of refused, and the upstream never sees more than the limit in
 * any window, wherever that window starts. The Redis admission script keeps the same log.
 */
export class RateLog {
  readonly limit: number;
  readonly windowMs: number;
  /** Booked call times, oldest first, never decreasing; at most `limit` are kept. */
  readonly #times: number[] = [];

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /**
   * The earliest time at or after `nowMs` a new call may start. `limit` may be lowered
   * (the fallback share when Redis is away), never raised above the constructor's.
   */
  earliestSlot(nowMs: number, limit = this.limit): number {
    const times = this.#times;
    const count = times.length;
    if (count === 0) return nowMs;
    // Booking after the last slot keeps the log sorted, which the window rule below relies on.
    let slot = Math.max(nowMs, times[count - 1] ?? nowMs);
    const cap = Math.min(limit, this.limit);
    if (count >= cap) slot = Math.max(slot, (times[count - cap] ?? nowMs) + this.windowMs);
    return slot;
  }

  /** Books a call at `atMs` (a value `earliestSlot` returned, or a slot Redis granted). */
  book(atMs: number): void {
    const times = this.#times;
    times.push(Math.max(atMs, times[times.length - 1] ?? atMs));
    if (times.length > this.limit) times.splice(0, times.length - this.limit);
  }
}
