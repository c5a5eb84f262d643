import { setMaxListeners } from 'node:events';
import { TimeoutError } from '../errors.js';
import type { DeadlineTimer, ScheduledDeadline } from './deadline-timer.js';

/**
 * One deadline for one evaluation, shared by all of its provider calls. Nothing is
 * made until a call needs it: a request answered from cache schedules nothing, and a
 * local provider that never reads its signal schedules the deadline on the engine's
 * timer but makes no AbortController (which costs several microseconds in Node 20).
 */
export class Deadline {
  private controller: AbortController | undefined;
  private scheduled: ScheduledDeadline | undefined;
  private expiry: Promise<void> | undefined;
  private resolveExpiry: (() => void) | undefined;
  private fired = false;
  private disposed = false;

  constructor(
    /** Milliseconds from `startedAt` until the deadline. */
    readonly budgetMs: number,
    /** Start of the evaluation on the engine's clock. */
    readonly startedAt: number,
    private readonly now: () => number,
    /** The engine's one timer for all pending deadlines. */
    private readonly timer: DeadlineTimer,
  ) {}

  /** Fires when the deadline passes; providers hand it to their sockets. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // Every provider call of the request listens on this one signal; dozens are expected.
      setMaxListeners(256, this.controller.signal);
      if (this.fired) this.controller.abort(new TimeoutError());
      else this.arm();
    }
    return this.controller.signal;
  }

  /** Resolves when the deadline passes (never rejects). */
  get expired(): Promise<void> {
    this.arm();
    return this.expiry as Promise<void>;
  }

  /** Milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, this.budgetMs - (this.now() - this.startedAt));
  }

  /** Stops the timer; calls still running keep their (unfired) signal. */
  dispose(): void {
    this.disposed = true;
    this.scheduled?.cancel();
    this.scheduled = undefined;
  }

  private arm(): void {
    if (this.expiry !== undefined) return;
    this.expiry = new Promise((resolve) => {
      this.resolveExpiry = resolve;
    });
    if (this.disposed) return;
    const fire = (): void => {
      this.scheduled = undefined;
      this.fired = true;
      this.controller?.abort(new TimeoutError());
      this.resolveExpiry?.();
    };
    const remaining = this.remainingMs();
    if (remaining === 0) fire();
    else this.scheduled = this.timer.schedule(this.startedAt + this.budgetMs, fire);
  }
}
