/**
 * Redis for quota tests: a unique key prefix on the shared server (removed afterwards),
 * and private servers on free ports that a test may kill, stop or restart by PID.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createClient } from '@redis/client';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function uniquePrefix(): string {
  return `fs-test:${randomBytes(6).toString('hex')}:`;
}

function plainClient(url: string) {
  return createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: false } });
}

export type TestRedisClient = ReturnType<typeof plainClient>;

export async function connect(url = SHARED_REDIS_URL): Promise<TestRedisClient> {
  const client = plainClient(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Deletes every key under the prefix. */
export async function removeKeys(client: TestRedisClient, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  if (keys.length > 0) await client.del(keys);
}

export async function keysUnder(client: TestRedisClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  return keys.sort();
}

/** A port nothing listens on (at the moment of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, without persistence. */
export class PrivateRedis {
  readonly port: number;
  #process: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(port?: number): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port ?? (await freePort()));
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Starts the server (again) on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.#process = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const client = await connect(this.url);
        await client.ping();
        client.destroy();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** SIGKILL, then waits for the process to be gone. */
  async kill(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  freeze(): void {
    if (this.#process?.pid !== undefined) process.kill(this.#process.pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.#process?.pid !== undefined) process.kill(this.#process.pid, 'SIGCONT');
  }
}
