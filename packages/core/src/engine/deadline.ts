import { setMaxListeners } from 'node:events';
import { TimeoutError } from '../errors.js';

/**
 * One deadline for one evaluation, shared by all of its provider calls. The timer and
 * the AbortController are created only when a call actually needs them, so a request
 * answered entirely from cache allocates neither.
 */
export class Deadline {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private expiry: Promise<void> | undefined;
  private resolveExpiry: (() => void) | undefined;
  private disposed = false;

  constructor(
    /** Milliseconds from `startedAt` until the deadline. */
    readonly budgetMs: number,
    /** Start of the evaluation on the engine's clock. */
    readonly startedAt: number,
    private readonly now: () => number,
  ) {}

  /** Fires when the deadline passes; providers hand it to their sockets. */
  get signal(): AbortSignal {
    this.arm();
    return (this.controller as AbortController).signal;
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
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.controller !== undefined) return;
    this.controller = new AbortController();
    // Every provider call of the request listens on this one signal; dozens are expected.
    setMaxListeners(256, this.controller.signal);
    this.expiry = new Promise((resolve) => {
      this.resolveExpiry = resolve;
    });
    if (this.disposed) return;
    const fire = (): void => {
      this.timer = undefined;
      this.controller?.abort(new TimeoutError());
      this.resolveExpiry?.();
    };
    const remaining = this.remainingMs();
    if (remaining === 0) fire();
    else this.timer = setTimeout(fire, remaining);
  }
}
