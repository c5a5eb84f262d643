/**
 * The shared Redis at 127.0.0.1:6379, seen from the security suites: a unique prefix per
 * run, a dump of every key under it (with its value, whatever its type) for leak scans,
 * and a clean-up that removes all of it.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';

export const REDIS_URL = 'redis://127.0.0.1:6379';


/** `fs-test:<random>:` — every key a suite writes starts with it. */
export function uniquePrefix(suite: string): string {
  return `fs-test:${suite}:${randomBytes(6).toString('hex')}:`;
}

/** A plain client (its long generic type is left to inference). */
export async function connect() {
  const client = createClient({ url: REDIS_URL });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

type Client = Awaited<ReturnType<typeof connect>>;

export async function keysUnder(client: Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  return keys;
}

/** Every key under the prefix with its value as text, so a test can search both. */
export async function dump(client: Client, prefix: string): Promise<{ key: string; type: string; value: string }[]> {
  const entries: { key: string; type: string; value: string }[] = [];
  for (const key of await keysUnder(client, prefix)) {
    const type = await client.type(key);
    let value: unknown;
    if (type === 'string') value = await client.get(key);
    else if (type === 'hash') value = await client.hGetAll(key);
    else if (type === 'zset') value = await client.zRange(key, 0, -1);
    else if (type === 'list') value = await client.lRange(key, 0, -1);
    else if (type === 'set') value = await client.sMembers(key);
    else value = `<${type}>`;
    entries.push({ key, type, value: typeof value === 'string' ? value : JSON.stringify(value) });
  }
  return entries;
}

export async function removeAll(client: Client, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.unlink(keys.slice(i, i + 500));
}
