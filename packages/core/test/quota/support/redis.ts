/**
 * Redis for quota tests: a unique key prefix on the shared server (removed afterwards),
 * and private servers on free ports that a test may kill, stop or restart by PID.
 */

import { randomBytes } from 'node:crypto';
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

export { PrivateRedis, freePort } from '../../../../../test/support/private-redis.js';
