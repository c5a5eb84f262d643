/** Helpers for tests that talk to Redis: the shared server, or a private one they may kill. */

import { randomBytes } from 'node:crypto';

import { PrivateRedis } from '../../../../../test/support/private-redis.js';

export type { PrivateRedis };

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** A channel (or key prefix) no other test run uses. */
export const uniquePrefix = (): string => `fs-test:${randomBytes(6).toString('hex')}:`;

/** Polls `condition` until it holds; rejects after `timeoutMs`. Returns the time it took. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what = 'condition'): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

export { freePort } from '../../../../../test/support/private-redis.js';

/** Starts a private redis-server on `port` without persistence (killed by PID). */
export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  return PrivateRedis.start(port);
}
