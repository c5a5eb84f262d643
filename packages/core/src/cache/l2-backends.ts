/**
 * The L2 back-ends, built behind one small interface. Optional client libraries
 * (@keyv/redis, @redis/client, @keyv/sqlite) are imported only when configured, so an
 * application that never names them never needs them installed.
 */
import { Keyv } from 'keyv';
import type { CacheEventEmitter } from './events.js';
import { reasonOf } from './events.js';
import { keyMentions } from './keys.js';
import type { L2Guard } from './l2-guard.js';
import type { BusChannel, RedisConnectionOptions, RedisLink } from './redis-link.js';

/** In-process Keyv over a bounded map: the default, useful mainly to try the cache out. */
export interface MemoryL2Options {
  readonly memory: { readonly maxEntries?: number };
}

/** Keyv over SQLite (@keyv/sqlite): survives restarts of a single instance. */
export interface SqliteL2Options {
  readonly sqlite: {
    /** Database file; created when missing. */
    readonly path: string;
    /** Table name (default `formsecurity_cache`). */
    readonly table?: string;
    /** How long SQLite waits on a locked database (default 100 ms). */
    readonly busyTimeoutMs?: number;
    /** How often rows past their grace period are deleted (default 1 h); SQLite has no TTL of its own. */
    readonly sweepIntervalMs?: number;
  };
}

/** Keyv over Redis (@keyv/redis): shared by many instances, with cross-instance single-flight and purge. */
export interface RedisL2Options {
  readonly redis: RedisConnectionOptions & {
    /**
     * Timeout of each single-flight lock operation (default 100 ms). Longer than
     * `l2TimeoutMs` because it runs only on a miss, just before an upstream call, and a
     * lock attempt that times out costs a duplicate upstream call.
     */
    readonly lockTimeoutMs?: number;
    /** Lifetime of a single-flight lock; bounds how long a crashed holder blocks others (default 5 s). */
    readonly lockTtlMs?: number;
    /** Longest a waiter waits for another instance's fetch before calling upstream itself (default 2 s). */
    readonly lockWaitMs?: number;
    /** How often a waiter re-reads L2 when no fill message arrives (default 25 ms). */
    readonly lockPollMs?: number;
  };
}

/** Any Keyv 5 instance the application built itself; the cache neither configures nor closes it. */
export type CustomL2 = Keyv;

export type L2Option = false | MemoryL2Options | SqliteL2Options | RedisL2Options | CustomL2;

export type L2Kind = 'memory' | 'sqlite' | 'redis' | 'custom';

/** Which data keys a purge removes, relative to the namespace. */
export type KeyMatch = { readonly provider: string } | { readonly digest: string };

export interface L2Backend {
  readonly kind: L2Kind;
  /** Each operation rejects on failure, whatever the store's own error policy. */
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<unknown>;
  deleteMany(keys: string[]): Promise<unknown>;
  /** Present for Redis: locks and the pub/sub bus. */
  readonly link: RedisLink | undefined;
  /** Resolves once the back-end has connected or failed to. */
  readonly settled: Promise<void>;
  /** A cheap round trip, to find out whether a down L2 answers again. */
  probe(): Promise<unknown>;
  /** Deletes matching keys; `undefined` when the store cannot list its keys. */
  deleteMatching(match: KeyMatch): Promise<number | undefined>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MEMORY_L2_MAX_ENTRIES = 100_000;
export const DEFAULT_SQLITE_TABLE = 'formsecurity_cache';
export const DEFAULT_SQLITE_SWEEP_MS = 3_600_000;

export interface BackendContext {
  readonly namespace: string;
  readonly guard: L2Guard;
  readonly events: CacheEventEmitter;
  readonly onBusMessage: (channel: BusChannel, message: string) => void;
}

/** A Map that forgets its oldest insertion beyond `maxEntries` (still a Map, so Keyv can iterate it). */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    super();
    this.#maxEntries = maxEntries;
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.#maxEntries) {
      const oldest = this.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

function matcher(match: KeyMatch): (key: string) => boolean {
  if ('provider' in match) {
    const prefix = `${match.provider}:`;
    return (key) => key.startsWith(prefix);
  }
  const digests = new Set([match.digest]);
  return (key) => keyMentions(key, digests);
}

/**
 * A stored key without its namespace: its last three segments (`provider:version:digest`,
 * none of which may contain a colon). Keyv's iterator strips namespaces only up to their
 * first colon, so its keys cannot be trusted to be relative.
 */
function relativeKey(key: string): string {
  let cut = key.length;
  for (let segments = 0; segments < 3 && cut > 0; segments++) cut = key.lastIndexOf(':', cut - 1);
  return cut < 0 ? key : key.slice(cut + 1);
}

/** Lists keys through Keyv's iterator, then deletes: deleting while paging would skip rows. */
async function deleteByIteration(store: Keyv, match: KeyMatch): Promise<number | undefined> {
  const iterate = store.iterator;
  if (typeof iterate !== 'function') return undefined;
  const matches = matcher(match);
  const doomed: string[] = [];
  for await (const item of iterate(store.namespace) as AsyncIterable<[string, unknown]>) {
    const key = relativeKey(item[0]);
    if (matches(key)) doomed.push(key);
  }
  if (doomed.length > 0) await store.deleteMany(doomed);
  return doomed.length;
}

/**
 * Makes a store's failure a rejection even when the Keyv instance swallows errors
 * (`throwOnErrors` off) and only emits them.
 */
function strictly<T>(store: Keyv, operation: () => Promise<T>): Promise<T> {
  if (store.throwOnErrors) return operation();
  let failure: unknown;
  const onError = (error: unknown): void => {
    failure ??= error ?? new Error('L2 store error');
  };
  store.on('error', onError);
  return operation().then(
    (result) => {
      store.off('error', onError);
      if (failure !== undefined) throw failure;
      return result;
    },
    (error: unknown) => {
      store.off('error', onError);
      throw error;
    },
  );
}

function genericBackend(kind: L2Kind, store: Keyv, close: () => Promise<void>): L2Backend {
  return {
    kind,
    get: (key) => strictly(store, () => store.get(key)),
    set: (key, value, ttlMs) => strictly(store, () => store.set(key, value, ttlMs)),
    deleteMany: (keys) => strictly(store, () => store.deleteMany(keys)),
    link: undefined,
    settled: Promise.resolve(),
    probe: () => strictly(store, () => store.get('__probe__')),
    deleteMatching: (match) => strictly(store, () => deleteByIteration(store, match)),
    clear: () => strictly(store, () => store.clear()),
    close,
  };
}

function memoryBackend(options: MemoryL2Options['memory'], context: BackendContext): L2Backend {
  const store = new Keyv({
    store: new BoundedMap<string, unknown>(options.maxEntries ?? DEFAULT_MEMORY_L2_MAX_ENTRIES),
    namespace: context.namespace,
    throwOnErrors: true,
  });
  // Envelopes stay objects (Keyv stores values as they are without a serializer): its
  // text would be built from dozens of pieces per entry, and held that way, for a store
  // that never leaves the process.
  store.serialize = undefined;
  store.deserialize = undefined;
  context.guard.untimed();
  context.guard.markUp();
  return genericBackend('memory', store, async () => undefined);
}

async function sqliteBackend(options: SqliteL2Options['sqlite'], context: BackendContext): Promise<L2Backend> {
  const { KeyvSqlite } = await import('@keyv/sqlite');
  const table = options.table ?? DEFAULT_SQLITE_TABLE;
  const adapter = new KeyvSqlite({ uri: `sqlite://${options.path}`, table, busyTimeout: options.busyTimeoutMs ?? 100, iterationLimit: 500 });
  const store = new Keyv({ store: adapter, namespace: context.namespace, throwOnErrors: true });
  // A first query both proves the file opens and attaches a handler to the adapter's connect promise.
  await store.get('__probe__');
  context.guard.markUp();

  // Keyv writes `expires` (real epoch ms) into every row; SQLite never removes rows by itself.
  const sweep = (): void => {
    adapter
      .query(`DELETE FROM ${adapter.opts.table} WHERE key LIKE ? AND json_extract(value, '$.expires') < ?`, [
        `${context.namespace}:%`,
        Date.now(),
      ])
      .catch((error: unknown) => context.events.emit('l2.error', { operation: 'sweep', reason: reasonOf(error) }));
  };
  const timer = setInterval(sweep, options.sweepIntervalMs ?? DEFAULT_SQLITE_SWEEP_MS);
  timer.unref?.();
  return genericBackend('sqlite', store, async () => {
    clearInterval(timer);
    await store.disconnect();
  });
}

async function redisBackend(options: RedisL2Options['redis'], context: BackendContext): Promise<L2Backend> {
  const [{ RedisLink }, { default: KeyvRedis }] = await Promise.all([import('./redis-link.js'), import('@keyv/redis')]);
  const link = new RedisLink(options, context.namespace, context.guard, context.onBusMessage);
  const adapter = new KeyvRedis(link.client, { namespace: context.namespace, throwOnErrors: true, throwOnConnectError: true });
  const store = new Keyv({ store: adapter, namespace: context.namespace, useKeyPrefix: false, throwOnErrors: true });
  return {
    kind: 'redis',
    get: (key) => store.get(key),
    set: (key, value, ttlMs) => store.set(key, value, ttlMs),
    deleteMany: (keys) => store.deleteMany(keys),
    link,
    settled: link.settled,
    probe: () => link.client.ping(),
    // SCAN narrows by pattern; the matcher then decides exactly (a digest may sit anywhere in the last segment).
    deleteMatching: (match) =>
      link.deleteMatching('provider' in match ? `${match.provider}:*` : `*${match.digest}*`, matcher(match)),
    clear: () => store.clear(),
    close: () => link.close(),
  };
}

function customBackend(store: Keyv, context: BackendContext): L2Backend {
  context.guard.markUp();
  return genericBackend('custom', store, async () => undefined);
}

function isKeyv(option: L2Option): option is Keyv {
  return typeof option === 'object' && typeof (option as Partial<Keyv>).get === 'function';
}

/** Builds the configured back-end; `undefined` when L2 is off. Rejects when a back-end cannot start. */
export async function createBackend(option: L2Option, context: BackendContext): Promise<L2Backend | undefined> {
  if (option === false) return undefined;
  if (isKeyv(option)) return customBackend(option, context);
  if ('redis' in option) return redisBackend(option.redis, context);
  if ('sqlite' in option) return sqliteBackend(option.sqlite, context);
  return memoryBackend(option.memory, context);
}
