import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTieredCache, type TieredCache, type TieredCacheOptions } from '../../src/cache/index.js';
import { eventually, manualClock, TEST_SECRET } from './helpers.js';

interface Answer {
  readonly score: number;
}

const directory = mkdtempSync(join(tmpdir(), 'fs-cache-sqlite-'));
const opened: TieredCache[] = [];
let files = 0;

function databaseFile(): string {
  return join(directory, `cache-${++files}.sqlite`);
}

async function open(path: string, options: Partial<TieredCacheOptions> = {}): Promise<TieredCache> {
  const cache = createTieredCache({ secret: TEST_SECRET, namespace: 'fs-test', l2: { sqlite: { path } }, l2TimeoutMs: 250, ...options });
  opened.push(cache);
  await cache.ready();
  expect(cache.health()).toMatchObject({ l2: 'up', backend: 'sqlite', crossInstance: false });
  return cache;
}

function rows(path: string): Promise<Array<{ key: string; value: string }>> {
  return new Promise((resolve, reject) => {
    const database = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) return reject(openError);
      database.all('SELECT key, value FROM formsecurity_cache', (error, result) => {
        database.close();
        if (error) reject(error);
        else resolve(result as Array<{ key: string; value: string }>);
      });
    });
  });
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('SQLite L2', () => {
  it('survives a restart of the instance, with hashed keys only', async () => {
    const path = databaseFile();
    const first = await open(path);
    const sfs = first.forProvider<Answer>({ name: 'sfs', facet: 'email' });
    const key = sfs.key('Sqlite.Subject@example.org');
    await sfs.getOrFetch(key, async () => ({ score: 0.25 }));
    expect(await eventually(() => first.stats().l2.writes === 1)).toBe(true);
    await first.close();

    const stored = await rows(path);
    expect(stored.map((row) => row.key)).toEqual([`fs-test:${key}`]);
    expect(JSON.stringify(stored).toLowerCase()).not.toContain('sqlite.subject');

    const second = await open(path);
    let calls = 0;
    const result = await second.forProvider<Answer>({ name: 'sfs', facet: 'email' }).getOrFetch(key, async () => ({ score: (calls++, 1) }));
    expect(result).toMatchObject({ status: 'cached', value: { score: 0.25 } });
    expect(calls).toBe(0);
    expect(second.stats().l2.hits).toBe(1);
  });

  it('purges a subject and a provider', async () => {
    const path = databaseFile();
    const cache = await open(path);
    const dnsbl = cache.forProvider<Answer>({ name: 'dnsbl' });
    const geo = cache.forProvider<Answer>({ name: 'geo' });
    for (const ip of ['203.0.113.1', '203.0.113.2']) {
      dnsbl.set(dnsbl.key(ip), { score: 0 });
      geo.set(geo.key(ip), { score: 0 });
    }
    expect(await eventually(() => cache.stats().l2.writes === 4)).toBe(true);

    expect(await cache.purge({ subject: { ip: '203.0.113.1' } })).toEqual({ l1Removed: 2, l2: 'done', l2Removed: 2, broadcast: 'none' });
    expect(await cache.purge({ provider: 'geo' })).toEqual({ l1Removed: 1, l2: 'done', l2Removed: 1, broadcast: 'none' });
    expect((await rows(path)).map((row) => row.key)).toEqual([`fs-test:${dnsbl.key('203.0.113.2')}`]);
  });

  it('treats an entry of another schema version as a miss', async () => {
    const path = databaseFile();
    const older = await open(path, { schemaVersion: 1 });
    const key = older.forProvider<Answer>({ name: 'dnsbl' }).key('203.0.113.7');
    older.forProvider<Answer>({ name: 'dnsbl' }).set(key, { score: 1 });
    expect(await eventually(() => older.stats().l2.writes === 1)).toBe(true);
    await older.close();

    const newer = await open(path, { schemaVersion: 2 });
    expect(await newer.forProvider<Answer>({ name: 'dnsbl' }).lookup(key)).toBeUndefined();
    expect(newer.stats().l2.schemaMismatches).toBe(1);
  });

  it('sweeps rows past their grace period, which SQLite would otherwise keep forever', async () => {
    const path = databaseFile();
    const clock = manualClock(Date.now());
    const cache = await open(path, { now: clock.now, l2: { sqlite: { path, sweepIntervalMs: 50 } } });
    const shortLived = cache.forProvider<Answer>({ name: 'dnsbl', ttlMs: 30, graceMs: 0 });
    const longLived = cache.forProvider<Answer>({ name: 'geo' });
    shortLived.set(shortLived.key('203.0.113.1'), { score: 0 });
    longLived.set(longLived.key('203.0.113.1'), { score: 0 });
    expect(await eventually(() => cache.stats().l2.writes === 2)).toBe(true);

    expect(await eventually(async () => (await rows(path)).length === 1)).toBe(true);
    expect((await rows(path))[0]?.key).toBe(`fs-test:${longLived.key('203.0.113.1')}`);
  });
});
