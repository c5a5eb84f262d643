/**
 * The quota's connection to Redis: runs Lua scripts with a per-operation timeout and
 * says, without waiting, whether Redis is worth asking right now. It never queues a
 * command while disconnected and never lets a Redis error escape unobserved.
 */

import { createHash } from 'node:crypto';
import { OperationTimeoutError, withTimeout } from './wait.js';

/**
 * The part of a Redis client the quota uses. A node-redis v4/v5 client (`createClient()`
 * from `redis` or `@redis/client`) fits as it is. The application keeps owning it: the
 * quota neither connects nor closes it, so give it `disableOfflineQueue: true` to fail fast.
 *
 * @example
 * const client = createClient({ url, disableOfflineQueue: true });
 * client.on('error', report);
 * await client.connect();
 * const quota = createQuota({ provider: 'abuseipdb', daily: { limit: 1000 }, redis: client });
 */
export interface RedisCommander {
  readonly isReady: boolean;
  sendCommand(args: readonly string[]): Promise<unknown>;
  on(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown;
  off(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown;
}

/**
 * A connection the quota opens and closes itself, from a `redis://` or `rediss://` URL:
 * no offline queue, reconnects backing off to 2 s, at most 1000 commands waiting.
 *
 * @example
 * const redis: RedisConnectionOptions = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
 */
export interface RedisConnectionOptions {
  readonly url: string;
}

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export interface RedisLinkOptions {
  readonly timeoutMs: number;
  /** Called with every connection or command failure; the quota turns it into an event. */
  readonly onError: (error: unknown) => void;
}

/** After a command times out, Redis is not asked again for this long: a hung server must not cost every call a timeout. */
const BACK_OFF_AFTER_TIMEOUT_MS = 1_000;
/** How long the first connection may take before calls stop waiting for it. */
const CONNECT_GRACE_MS = 2_000;
/** Bounds the commands waiting for replies from a server that stopped answering. */
const MAX_QUEUED_COMMANDS = 1_000;

export class RedisLink {
  readonly #options: RedisLinkOptions;
  readonly #owned: boolean;
  readonly #createdAtMs = Date.now();
  readonly #firstReady: Promise<void>;
  #client: RedisCommander | undefined;
  #everReady = false;
  #failedOnce = false;
  #closed = false;
  #skipUntilMs = 0;
  #markReady: () => void = () => undefined;
  readonly #onError = (error: unknown): void => {
    this.#failedOnce = true;
    this.#options.onError(error);
  };
  readonly #onReady = (): void => {
    this.#everReady = true;
    this.#markReady();
  };

  constructor(target: RedisConnectionOptions | RedisCommander, options: RedisLinkOptions) {
    this.#options = options;
    this.#firstReady = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    if (isCommander(target)) {
      this.#owned = false;
      this.#attach(target);
      if (target.isReady) this.#onReady();
    } else {
      this.#owned = true;
      void this.#open(target.url);
    }
  }

  /** Whether a command has a chance right now: connected, and not backing off from a timeout. */
  get usable(): boolean {
    return this.#client?.isReady === true && Date.now() >= this.#skipUntilMs;
  }

  /**
   * During start-up, waits (at most `ms`, and at most the operation timeout) for the first
   * connection, so the first calls are not counted locally just because the socket is
   * still opening. Once connected, or once a connection attempt has failed, returns at once.
   */
  async settle(ms: number): Promise<void> {
    if (this.#everReady || this.#failedOnce || this.#closed || Date.now() - this.#createdAtMs > CONNECT_GRACE_MS) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wait = Math.min(ms, this.#options.timeoutMs);
    await Promise.race([this.#firstReady, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]);
    clearTimeout(timer);
  }

  /** Resolves true once connected, or false after `timeoutMs`. */
  async whenConnected(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#client?.isReady !== true) {
      if (this.#closed || Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  /** Runs a script (EVALSHA, loading it on NOSCRIPT); rejects on any failure or after the timeout. */
  async run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const client = this.#client;
    if (client === undefined || !client.isReady) throw new Error('redis is not connected');
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await withTimeout(
        client.sendCommand(['EVALSHA', script.sha, ...tail]).catch((error: unknown) => {
          if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
            return client.sendCommand(['EVAL', script.source, ...tail]);
          }
          throw error;
        }),
        this.#options.timeoutMs,
      );
    } catch (error) {
      if (error instanceof OperationTimeoutError) this.#skipUntilMs = Date.now() + BACK_OFF_AFTER_TIMEOUT_MS;
      this.#options.onError(error);
      throw error;
    }
  }

  /** Detaches; a connection the link opened itself is destroyed (pending commands fail at once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#markReady();
    const client = this.#client;
    if (client === undefined) return;
    client.off('ready', this.#onReady);
    if (this.#owned) {
      (client as unknown as { destroy(): void }).destroy();
      // Late socket errors of a destroyed client must still find a listener.
      return;
    }
    client.off('error', this.#onError);
  }

  #attach(client: RedisCommander): void {
    this.#client = client;
    client.on('error', this.#onError);
    client.on('ready', this.#onReady);
  }

  async #open(url: string): Promise<void> {
    try {
      // Loaded on demand: only deployments that share quotas over Redis need the client library.
      const { createClient } = await import('@redis/client');
      if (this.#closed) return;
      const client = createClient({
        url,
        // Fail fast: a command while disconnected is refused at once instead of queued.
        disableOfflineQueue: true,
        commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
        socket: {
          connectTimeout: 1_000,
          reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000),
        },
      });
      this.#attach(client as unknown as RedisCommander);
      // connect() keeps retrying in the background while the server is away; readiness is read from `isReady`.
      client.connect().catch(this.#onError);
    } catch (error) {
      this.#options.onError(error);
    }
  }
}

function isCommander(target: RedisConnectionOptions | RedisCommander): target is RedisCommander {
  return typeof (target as Partial<RedisCommander>).sendCommand === 'function';
}
