/**
 * Time-bucketed rings: counters and histograms over the last minutes, in fixed memory.
 * Each slot covers `slotMs` and remembers which slot of time it holds; a slot is
 * cleared when time comes round to it again, so recording is O(1) and nothing runs in
 * the background. Windows are accurate to one slot.
 */
import { LogHistogram } from './histogram.js';
import type { BucketLayout } from './histogram.js';

/** Which absolute slot a time falls in, and where that slot lives in a ring of `length`. */
function ringIndex(epoch: number, length: number): number {
  return ((epoch % length) + length) % length;
}

/**
 * `fields` counters per slot over `spanMs`.
 *
 * @example
 * const ring = new RollingCounters(2, 10_000, 15 * 60_000);
 * ring.add(Date.now(), 0);
 * ring.sum(Date.now(), 60_000); // [1, 0]
 */
export class RollingCounters {
  private readonly slots: number;
  private readonly values: Float64Array;
  private readonly epochs: Float64Array;
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly fields: number,
    readonly slotMs: number,
    spanMs: number,
  ) {
    this.slots = Math.ceil(spanMs / slotMs) + 1;
    this.values = new Float64Array(this.slots * fields);
    this.epochs = new Float64Array(this.slots).fill(Number.NaN);
  }

  get byteLength(): number {
    return this.values.byteLength + this.epochs.byteLength;
  }

  add(at: number, field: number, amount = 1): void {
    const slot = this.slotFor(at);
    if (slot >= 0) this.values[slot * this.fields + field]! += amount;
  }

  /** Totals of each field over the `windowMs` that end at `at`. */
  sum(at: number, windowMs: number): number[] {
    const totals = new Array<number>(this.fields).fill(0);
    const epoch = Math.floor(at / this.slotMs);
    const count = Math.min(this.slots, Math.ceil(windowMs / this.slotMs));
    for (let k = 0; k < count; k++) {
      const index = ringIndex(epoch - k, this.slots);
      if (this.epochs[index] !== epoch - k) continue;
      for (let f = 0; f < this.fields; f++) totals[f]! += this.values[index * this.fields + f]!;
    }
    return totals;
  }

  /** The ring index for `at`, cleared if it held an older slot; −1 when `at` is older than the ring. */
  private slotFor(at: number): number {
    const epoch = Math.floor(at / this.slotMs);
    // A clock stepping back by more than the ring's span must not wipe newer slots.
    if (epoch <= this.newest - this.slots) return -1;
    if (epoch > this.newest) this.newest = epoch;
    const index = ringIndex(epoch, this.slots);
    if (this.epochs[index] !== epoch) {
      this.epochs[index] = epoch;
      this.values.fill(0, index * this.fields, (index + 1) * this.fields);
    }
    return index;
  }
}

/**
 * One histogram per slot (a minute by default) over `spanMs`; a window's quantiles merge
 * the slots it covers. Memory: (span / slot + 1) histograms, fixed.
 *
 * @example
 * const latency = new RollingHistogram(new BucketLayout(), 60_000, 15 * 60_000);
 * latency.record(Date.now(), 42);
 * latency.window(Date.now(), 5 * 60_000).quantile(0.95);
 */
export class RollingHistogram {
  private readonly ring: LogHistogram[];
  private readonly epochs: Float64Array;
  private readonly merged: LogHistogram;
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly layout: BucketLayout,
    readonly slotMs: number,
    spanMs: number,
  ) {
    const slots = Math.ceil(spanMs / slotMs) + 1;
    this.ring = Array.from({ length: slots }, () => new LogHistogram(layout));
    this.epochs = new Float64Array(slots).fill(Number.NaN);
    this.merged = new LogHistogram(layout);
  }

  get byteLength(): number {
    return this.ring.reduce((bytes, h) => bytes + h.byteLength, this.merged.byteLength + this.epochs.byteLength);
  }

  record(at: number, value: number): void {
    const epoch = Math.floor(at / this.slotMs);
    if (epoch <= this.newest - this.ring.length) return;
    if (epoch > this.newest) this.newest = epoch;
    const index = ringIndex(epoch, this.ring.length);
    const slot = this.ring[index]!;
    if (this.epochs[index] !== epoch) {
      this.epochs[index] = epoch;
      slot.clear();
    }
    slot.record(value);
  }

  /**
   * The values of the `windowMs` that end at `at`, merged into one histogram. The result
   * is reused by the next call: read it before calling again.
   */
  window(at: number, windowMs: number): LogHistogram {
    this.merged.clear();
    const epoch = Math.floor(at / this.slotMs);
    const count = Math.min(this.ring.length, Math.ceil(windowMs / this.slotMs));
    for (let k = 0; k < count; k++) {
      const index = ringIndex(epoch - k, this.ring.length);
      if (this.epochs[index] === epoch - k) this.merged.add(this.ring[index]!);
    }
    return this.merged;
  }
}
