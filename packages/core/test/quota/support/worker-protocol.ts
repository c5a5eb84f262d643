/** Messages between a quota test and its worker processes, and the parent's side of the channel. */

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { QuotaOptions } from '../../../src/quota/index.js';

/** The quota options that survive IPC: no functions, no client objects. */
export type WorkerQuotaOptions = Omit<QuotaOptions, 'now' | 'onEvent' | 'store' | 'redis'> & {
  readonly redis: { readonly url: string };
};

export type ParentMessage =
  | { readonly type: 'setup'; readonly options: WorkerQuotaOptions; readonly serverUrl: string; readonly instance: string }
  | { readonly type: 'burst'; readonly attempts: number }
  | { readonly type: 'loop'; readonly intervalMs: number }
  | { readonly type: 'stop' }
  | { readonly type: 'call-429' }
  | { readonly type: 'close' };

export type WorkerMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'burst-done';
      readonly admitted: number;
      readonly refused: number;
      readonly unexpected: readonly string[];
      readonly events: readonly string[];
    }
  | {
      readonly type: 'loop-done';
      readonly calls: number;
      readonly refusals: readonly { readonly atMs: number; readonly retryAfterMs: number | undefined }[];
      readonly unexpected: readonly string[];
      readonly events: readonly string[];
    }
  | { readonly type: 'paused'; readonly atMs: number }
  | { readonly type: 'closed' };

type Reply<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

const WORKER_PATH = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** One worker process and a typed way to talk to it. */
export class Worker {
  readonly #child: ChildProcess;
  readonly #inbox: WorkerMessage[] = [];
  readonly #waiting = new Set<() => void>();

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: WorkerMessage) => {
      this.#inbox.push(message);
      for (const wake of [...this.#waiting]) wake();
    });
  }

  /** Forks a worker; `setup` gives it a quota. */
  static start(): Worker {
    const child = fork(WORKER_PATH, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Worker(child);
  }

  /** Gives the worker a new quota (closing its previous one); resolves once it is connected. */
  async setup(setup: Omit<Extract<ParentMessage, { type: 'setup' }>, 'type'>): Promise<void> {
    this.send({ type: 'setup', ...setup });
    await this.next('ready', 30_000);
  }

  send(message: ParentMessage): void {
    this.#child.send(message);
  }

  /** The next message of the given type (already received or still to come). */
  next<T extends WorkerMessage['type']>(type: T, timeoutMs = 20_000): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        const index = this.#inbox.findIndex((message) => message.type === type);
        if (index < 0) return false;
        const [message] = this.#inbox.splice(index, 1);
        resolve(message as Reply<T>);
        return true;
      };
      if (look()) return;
      const timer = setTimeout(() => {
        this.#waiting.delete(wake);
        reject(new Error(`worker sent no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = (): void => {
        if (!look()) return;
        clearTimeout(timer);
        this.#waiting.delete(wake);
      };
      this.#waiting.add(wake);
    });
  }

  /** Asks the worker to close its quota and exit; kills it if it does not within 5 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      this.send({ type: 'close' });
      await this.next('closed', 5_000);
    } catch {
      // Killed below.
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
