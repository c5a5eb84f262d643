/**
 * Shared test helpers: a controllable clock, unique Redis namespaces, a raw Redis
 * client to inspect what the cache stored, and private redis-server processes.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';

import { PrivateRedis } from '../../../../test/support/private-redis.js';

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

export { freePort } from '../../../../test/support/private-redis.js';

/** A private redis-server on `port`; stop it with `stopRedisServer` (kills by PID). */
export function startRedisServer(port: number): Promise<PrivateRedis> {
  return PrivateRedis.start(port);
}

export function stopRedisServer(server: PrivateRedis): Promise<void> {
  return server.kill();
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
