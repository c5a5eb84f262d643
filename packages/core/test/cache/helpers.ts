/**
 * Shared test helpers: a controllable clock, unique Redis namespaces, a raw Redis
 * client to inspect what the cache stored, and private redis-server processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import { createClient } from '@redis/client';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';
export const TEST_SECRET = 'test-secret-of-at-least-16-bytes';

/** A clock that moves only when told to. */
export function manualClock(start = Date.UTC(2025, 0, 1)): { now: () => number; advance: (ms: number) => void } {
  let current = start;
  return { now: () => current, advance: (ms) => (current += ms) };
}

export function uniqueNamespace(): string {
  return `fs-test:${randomBytes(6).toString('hex')}`;
}

export type RawRedis = Awaited<ReturnType<typeof rawRedis>>;

/** A plain client for inspecting what the cache stored (its long generic type is left to inference). */
export async function rawRedis(url = SHARED_REDIS_URL) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Every key of a namespace with its string value (or type, for non-strings). */
export async function dumpNamespace(client: RawRedis, namespace: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const keys of client.scanIterator({ MATCH: `${namespace}*`, COUNT: 500 })) {
    for (const key of keys) {
      const type = await client.type(key);
      found.set(key, type === 'string' ? ((await client.get(key)) ?? '') : `<${type}>`);
    }
  }
  return found;
}

export async function deleteNamespace(client: RawRedis, namespace: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${namespace}*`, COUNT: 500 })) {
    if (keys.length > 0) await client.unlink(keys);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** A private redis-server on `port`; stop it with `stopRedisServer` (kills by PID). */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await accepts(port)) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

export async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    if (await condition()) return true;
    await sleep(20);
  }
  return condition();
}
