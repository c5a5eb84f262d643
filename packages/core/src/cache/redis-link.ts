/**
 * The Redis connections of one cache instance: a command client (shared with the
 * Keyv store) and a subscriber. Both are configured to fail fast while disconnected —
 * no offline queue, bounded reconnect back-off, a connect timeout, an error listener —
 * so a dead Redis costs a lookup nothing, the very first one included.
 *
 * Loaded with a dynamic import only when a Redis L2 is configured.
 */
import { createClient } from '@redis/client';
import { reasonOf } from './events.js';
import type { L2Guard } from './l2-guard.js';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`; never logged. */
  readonly url: string;
  /** Give up a connection attempt after this long (default 1 s). */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts (default 1 s). */
  readonly maxReconnectDelayMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 1_000;

type RedisClient = ReturnType<typeof createClient>;

/** Which channel a bus message came in on. */
export type BusChannel = 'purge' | 'fill';

const RELEASE_LOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Key and channel names of one namespace (documented in docs/storage.md). */
export function redisNames(namespace: string): {
  dataPrefix: string;
  lockKey: (key: string) => string;
  channel: (kind: BusChannel) => string;
} {
  return {
    dataPrefix: `${namespace}::`,
    lockKey: (key) => `${namespace}:lock:${key}`,
    channel: (kind) => `${namespace}:${kind}`,
  };
}

function reconnectDelay(maxDelayMs: number): (retries: number) => number {
  // Exponential from 50 ms, capped, with jitter so a fleet does not reconnect in lockstep.
  return (retries) => Math.min(50 * 2 ** Math.min(retries, 16), maxDelayMs) + Math.floor(Math.random() * 50);
}

export class RedisLink {
  readonly client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #names: ReturnType<typeof redisNames>;
  readonly #onMessage: (channel: BusChannel, message: string) => void;
  #subscribed = false;
  #closed = false;
  /** Resolves once the first connection succeeded (subscriptions included) or failed. */
  readonly settled: Promise<void>;

  constructor(
    options: RedisConnectionOptions,
    namespace: string,
    guard: L2Guard,
    onMessage: (channel: BusChannel, message: string) => void,
  ) {
    this.#names = redisNames(namespace);
    this.#onMessage = onMessage;
    const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout,
        reconnectStrategy: reconnectDelay(options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS),
      },
    });
    this.#subscriber = this.client.duplicate();

    // Settled once both connections are usable (the subscriber subscribed), on the first
    // connection error, or at the connect timeout, whichever comes first.
    let settle: () => void = () => undefined;
    this.settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const settleTimer = setTimeout(settle, connectTimeout);
    settleTimer.unref?.();
    let clientReady = false;
    const settleIfUsable = (): void => {
      if (clientReady && this.#subscribed) settle();
    };

    this.client.on('error', (error: unknown) => {
      guard.markDown(reasonOf(error));
      settle();
    });
    this.client.on('ready', () => {
      clientReady = true;
      guard.markUp();
      settleIfUsable();
    });
    this.#subscriber.on('error', () => {
      // Counted through the command client; the subscriber reconnects and resubscribes by itself.
    });
    this.#subscriber.on('ready', () => {
      void this.#subscribe().then(settleIfUsable);
    });
    this.client.connect().catch(() => undefined);
    this.#subscriber.connect().catch(() => undefined);
  }

  async #subscribe(): Promise<void> {
    if (this.#subscribed || this.#closed) return;
    try {
      const listener = (message: string, channel: string): void => {
        this.#onMessage(channel === this.#names.channel('fill') ? 'fill' : 'purge', message);
      };
      await this.#subscriber.subscribe([this.#names.channel('purge'), this.#names.channel('fill')], listener);
      this.#subscribed = true;
    } catch {
      // Retried on the next 'ready'.
    }
  }

  /** SET NX PX: true when this instance now holds the lock for `key`. */
  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const reply = await this.client.set(this.#names.lockKey(key), token, {
      condition: 'NX',
      expiration: { type: 'PX', value: ttlMs },
    });
    return reply === 'OK';
  }

  /** Deletes the lock only if it is still ours (it may have expired and been taken). */
  async unlock(key: string, token: string): Promise<void> {
    await this.client.eval(RELEASE_LOCK, { keys: [this.#names.lockKey(key)], arguments: [token] });
  }

  async publish(channel: BusChannel, message: string): Promise<void> {
    await this.client.publish(this.#names.channel(channel), message);
  }

  /**
   * Deletes the data keys that match a SCAN pattern (relative to the namespace) and that
   * `accepts` accepts (given the key without its namespace); returns how many.
   */
  async deleteMatching(relativePattern: string, accepts: (relativeKey: string) => boolean): Promise<number> {
    const prefix = this.#names.dataPrefix;
    let removed = 0;
    for await (const keys of this.client.scanIterator({ MATCH: `${prefix}${relativePattern}`, COUNT: 500 })) {
      const doomed = keys.filter((key) => accepts(key.slice(prefix.length)));
      if (doomed.length > 0) removed += await this.client.unlink(doomed);
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.client, this.#subscriber].map((client) => closeClient(client)));
  }
}

async function closeClient(client: RedisClient): Promise<void> {
  try {
    // A graceful close waits for replies, which a disconnected client would never get.
    if (client.isReady) await client.close();
    else if (client.isOpen) client.destroy();
  } catch {
    if (client.isOpen) client.destroy();
  }
}
