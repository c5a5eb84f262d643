/**
 * Processes started with `node --import tsx <script>`: a server under load, or one of
 * several app instances. The child says it is ready by printing one line,
 * `READY <json>`, which the parent reads back as a value (its port, say).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY = 'READY ';
const MAX_KEPT_OUTPUT = 64 * 1024;

/** A running child and what it announced. */
export interface Child<T> {
  readonly pid: number;
  /** The JSON the child printed after `READY `. */
  readonly ready: T;
  /** Everything it printed so far (the last 64 KiB), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ChildOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** How long to wait for `READY` (default 30 s: tsx compiles on a cold start). */
  readonly timeoutMs?: number;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `script` (a path from the repository root) and resolves once it prints
 * `READY <json>`; rejects with its output if it exits or stays silent first.
 *
 * @example
 * const server = await startChild<{ port: number }>('bench/apps/form-server.ts', { args: ['express', 'bare'] });
 * await fetch(`http://127.0.0.1:${server.ready.port}/contact`, { method: 'POST' });
 * await server.stop();
 */
export async function startChild<T>(script: string, options: ChildOptions = {}): Promise<Child<T>> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, FORMSECURITY_LOG_LEVEL: 'silent', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (data: Buffer): void => {
    output = (output + data.toString()).slice(-MAX_KEPT_OUTPUT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = exitOf(child);

  const ready = await new Promise<T>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => fail(new Error(`${script} did not become ready:\n${output}`)), options.timeoutMs ?? 30_000);
    const onData = (data: Buffer): void => {
      pending += data.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      const line = lines.find((candidate) => candidate.startsWith(READY));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(JSON.parse(line.slice(READY.length)) as T);
    };
    const onExit = (code: number | null): void => fail(new Error(`${script} exited with ${code}:\n${output}`));
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });

  return {
    pid: child.pid as number,
    ready,
    output: () => output,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * The child's side: prints the `READY` line its parent waits for.
 *
 * @example
 * announceReady({ port: server.address().port });
 */
export function announceReady(value: unknown): void {
  process.stdout.write(`${READY}${JSON.stringify(value)}\n`);
}

/**
 * Runs `stop` on SIGTERM or SIGINT, then exits; a second signal exits at once.
 *
 * @example
 * onTermination(async () => { await app.close(); await engine.close(); });
 */
export function onTermination(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
