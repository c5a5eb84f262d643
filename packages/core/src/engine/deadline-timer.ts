/**
 * One timer for all of an engine's pending deadlines.
 *
 * Node runs each expired timer's callback, then every promise reaction it caused, before
 * the next timer's. When ten cold requests reach their deadline together, the tenth
 * verdict would wait for the nine callers before it to go on with their work (render a
 * page, start the next request), arriving milliseconds past its budget. Here one timer
 * fires every deadline that is due, and those due within the next millisecond, in one
 * callback, so all of their verdicts are decided before any caller goes on. It also
 * costs one timer however many requests wait.
 */

/** Deadlines due this close after one that fires go with it: timers keep whole milliseconds anyway. */
export const COALESCE_MS = 1;

/** A deadline waiting in the timer; `cancel` it once its evaluation is decided. */
export interface ScheduledDeadline {
  readonly dueAt: number;
  cancel(): void;
}

class Entry implements ScheduledDeadline {
  cancelled = false;

  constructor(
    readonly dueAt: number,
    readonly fire: () => void,
    private readonly owner: DeadlineTimer,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.owner.forgetCancelled();
  }
}

export class DeadlineTimer {
  readonly #now: () => number;
  /** Binary min-heap on `dueAt`. Deadlines mostly arrive in order, so pushes rarely sift. */
  readonly #heap: Entry[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due, on the engine's clock. */
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Calls `fire` at `dueAt` (engine clock), or with an earlier deadline due within a millisecond of it. */
  schedule(dueAt: number, fire: () => void): ScheduledDeadline {
    const entry = new Entry(dueAt, fire, this);
    this.#push(entry);
    if (dueAt < this.#armedFor) this.#arm(dueAt);
    return entry;
  }

  /** Pending deadlines, cancelled ones not yet dropped included (for tests). */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Stops the timer and fires every pending deadline now: an evaluation still waiting
   * when its engine closes gets its verdict instead of waiting on a timer that is gone.
   */
  close(): void {
    this.#disarm();
    const pending = this.#heap.splice(0).filter((entry) => !entry.cancelled);
    for (const entry of pending) entry.fire();
  }

  /** Drops cancelled deadlines from the front, and stops the timer once nothing waits. */
  forgetCancelled(): void {
    while (this.#heap.length > 0 && (this.#heap[0] as Entry).cancelled) this.#pop();
    if (this.#heap.length === 0) this.#disarm();
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    // Trust the timer for the deadline it was armed for, whatever the clock says, so a
    // clock that lags behind real time can never leave a verdict waiting.
    const horizon = Math.max(this.#armedFor + COALESCE_MS, this.#now() + COALESCE_MS);
    this.#armedFor = Number.POSITIVE_INFINITY;
    const due: Entry[] = [];
    while (this.#heap.length > 0 && (this.#heap[0] as Entry).dueAt <= horizon) {
      const entry = this.#pop();
      if (!entry.cancelled) due.push(entry);
    }
    const next = this.#heap[0];
    if (next !== undefined) this.#arm(next.dueAt);
    // Fired after the heap is settled: a `fire` that schedules again finds it consistent.
    for (const entry of due) entry.fire();
  };

  #arm(dueAt: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = dueAt;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, dueAt - this.#now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    let index = heap.push(entry) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as Entry).dueAt <= entry.dueAt) break;
      heap[index] = heap[parent] as Entry;
      index = parent;
    }
    heap[index] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as Entry).dueAt < (heap[left] as Entry).dueAt ? right : left;
      if ((heap[child] as Entry).dueAt >= last.dueAt) break;
      heap[index] = heap[child] as Entry;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
