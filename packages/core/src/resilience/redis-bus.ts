/**
 * Shares breaker transitions between instances over Redis pub/sub: when one instance
 * opens (or closes) its breaker for a provider, every other instance does the same
 * for its breaker of that name, so a dead provider is not rediscovered by each
 * instance paying its own timeouts.
 *
 * Redis is optional here. While it is unreachable each breaker simply works
 * in-process: publishing is skipped (never queued, so stale transitions are not
 * replayed later), connection errors go to `onError`, nothing throws or rejects.
 */

import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import type { BreakerCloseEvent, BreakerOpenEvent } from './breaker-state.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { wallClock, type Clock } from './clock.js';
import { isRecord } from './strategy.js';

/** The part of a node-redis v5 client (`@redis/client`) the bus uses. */
export interface BusRedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  duplicate(): BusRedisClient;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface BreakerBusOptions {
  /**
   * A Redis URL (the bus opens and owns two connections) or a node-redis client you
   * created and connected (the bus publishes on it and subscribes on a duplicate it owns).
   */
  readonly redis: string | BusRedisClient;
  /** Pub/sub channel (default `formsecurity:breaker`); instances that share breakers share it. */
  readonly channel?: string;
  /** Identifies this instance in messages so it ignores its own (default: a random UUID). */
  readonly instanceId?: string;
  /** Longest pause between reconnection attempts of the bus's own connections, in ms (default 2 000). */
  readonly maxReconnectDelayMs?: number;
  /** Connection attempt timeout of the bus's own connections, in ms (default 1 000). */
  readonly connectTimeoutMs?: number;
  /** Receives connection and publish errors, e.g. to log them. Never called with message contents. */
  readonly onError?: (error: unknown) => void;
  /** Clock for message timestamps (default `wallClock`). */
  readonly now?: Clock;
}

/**
 * What travels on the channel: the provider's name, the new state, whether a person
 * caused it (`isolate()` / `reset()`), the sender's id and timestamps. Nothing else.
 * `until` (open only, absent while isolated) and `at` come from the sender's clock,
 * so the receiver uses their difference and clock skew between hosts does not matter.
 */
export interface BreakerMessage {
  readonly v: 1;
  readonly provider: string;
  readonly state: 'open' | 'closed';
  readonly manual: boolean;
  readonly instance: string;
  readonly at: number;
  readonly until?: number;
}

export interface BreakerBus {
  readonly instanceId: string;
  readonly channel: string;
  /** Whether both connections are up right now. */
  readonly connected: boolean;
  /** Resolves once the bus is subscribed for the first time; never rejects. */
  readonly ready: Promise<void>;
  /** Publishes the breaker's local open/close transitions and applies remote ones to it. Returns a detach function. */
  attach(breaker: CircuitBreaker): () => void;
  /** Detaches every breaker and closes the connections the bus opened. */
  close(): Promise<void>;
}

const MAX_MESSAGE_LENGTH = 2_048;

/** Reads a message from the channel; undefined for anything that is not a well-formed one. */
export function parseBreakerMessage(raw: string): BreakerMessage | undefined {
  if (raw.length > MAX_MESSAGE_LENGTH) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value['v'] !== 1) return undefined;
  const { provider, state, manual, instance, at, until } = value;
  if (typeof provider !== 'string' || typeof instance !== 'string' || typeof manual !== 'boolean') return undefined;
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  if (state === 'closed') return { v: 1, provider, state, manual, instance, at };
  if (state !== 'open') return undefined;
  if (manual) return { v: 1, provider, state, manual, instance, at };
  if (typeof until !== 'number' || !Number.isFinite(until)) return undefined;
  return { v: 1, provider, state, manual, instance, at, until };
}

class RedisBreakerBus implements BreakerBus {
  readonly instanceId: string;
  readonly channel: string;
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly breakers = new Map<string, { breaker: CircuitBreaker; detach: () => void }>();
  private readonly ownsPublisher: boolean;
  private publisher: BusRedisClient | undefined;
  private subscriber: BusRedisClient | undefined;
  private closed = false;
  private readonly now: Clock;
  private readonly reportError: (error: unknown) => void;

  constructor(private readonly options: BreakerBusOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.channel = options.channel ?? 'formsecurity:breaker';
    this.now = options.now ?? wallClock;
    this.ownsPublisher = typeof options.redis === 'string';
    const onError = options.onError;
    this.reportError = (error) => {
      try {
        onError?.(error);
      } catch {
        // A failing error reporter must not turn into an unhandled rejection.
      }
    };
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    void this.start();
  }

  get connected(): boolean {
    return this.publisher?.isReady === true && this.subscriber?.isReady === true;
  }

  attach(breaker: CircuitBreaker): () => void {
    if (this.breakers.has(breaker.name)) {
      throw new ConfigurationError([`breakerBus.attach: a breaker named ${breaker.name} is already attached`]);
    }
    const stopOpen = breaker.on('open', (event) => this.announceOpen(event));
    const stopClose = breaker.on('close', (event) => this.announceClose(event));
    const detach = (): void => {
      stopOpen();
      stopClose();
      if (this.breakers.get(breaker.name)?.breaker === breaker) this.breakers.delete(breaker.name);
    };
    this.breakers.set(breaker.name, { breaker, detach });
    return detach;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { detach } of [...this.breakers.values()]) detach();
    destroyQuietly(this.subscriber);
    if (this.ownsPublisher) destroyQuietly(this.publisher);
  }

  private async start(): Promise<void> {
    try {
      const { redis } = this.options;
      if (typeof redis === 'string') {
        this.publisher = await this.createOwnClient(redis);
        this.subscriber = await this.createOwnClient(redis);
      } else {
        this.publisher = redis;
        this.subscriber = redis.duplicate();
        this.subscriber.on('error', this.reportError);
      }
      // Closed while the client library was loading: nothing was connected yet.
      if (this.closed) return;
      if (this.ownsPublisher) this.publisher.connect().catch(this.reportError);
      // connect() resolves once connected, retrying in the background while Redis is down.
      await this.subscriber.connect();
      if (this.closed) return;
      await this.subscriber.subscribe(this.channel, (message) => this.receive(message));
      this.markReady();
    } catch (error) {
      if (!this.closed) this.reportError(error);
    }
  }

  private async createOwnClient(url: string): Promise<BusRedisClient> {
    // Imported lazily so @redis/client stays an optional peer: only bus users need it.
    const { createClient } = await import('@redis/client');
    const maxDelay = this.options.maxReconnectDelayMs ?? 2_000;
    const client = createClient({
      url,
      // Fail fast: a command while disconnected rejects at once instead of waiting in a queue.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: this.options.connectTimeoutMs ?? 1_000,
        // Retry forever (Redis may come back hours later) but never wait longer than maxDelay.
        reconnectStrategy: (retries: number) => Math.min(maxDelay, 50 * 2 ** Math.min(retries, 16)),
      },
    });
    client.on('error', this.reportError);
    return client;
  }

  private announceOpen(event: BreakerOpenEvent): void {
    if (event.origin !== 'local') return;
    const manual = event.reason === 'isolated';
    const at = this.now();
    this.publish(
      manual
        ? { v: 1, provider: event.name, state: 'open', manual, instance: this.instanceId, at }
        : { v: 1, provider: event.name, state: 'open', manual, instance: this.instanceId, at, until: at + (event.until - event.at) },
    );
  }

  private announceClose(event: BreakerCloseEvent): void {
    if (event.origin !== 'local') return;
    const manual = event.reason === 'reset';
    this.publish({ v: 1, provider: event.name, state: 'closed', manual, instance: this.instanceId, at: this.now() });
  }

  private publish(message: BreakerMessage): void {
    const publisher = this.publisher;
    // Skipped rather than queued: an old transition replayed after an outage would be wrong.
    if (this.closed || publisher?.isReady !== true) return;
    publisher.publish(this.channel, JSON.stringify(message)).catch(this.reportError);
  }

  private receive(raw: string): void {
    const message = parseBreakerMessage(raw);
    if (message === undefined || message.instance === this.instanceId) return;
    const breaker = this.breakers.get(message.provider)?.breaker;
    if (breaker === undefined) return;
    breaker.applyRemote(
      message.state === 'closed'
        ? { state: 'closed', manual: message.manual }
        : { state: 'open', manual: message.manual, openMs: (message.until ?? message.at) - message.at },
    );
  }
}

function destroyQuietly(client: BusRedisClient | undefined): void {
  if (client === undefined || !client.isOpen) return;
  try {
    client.destroy();
  } catch {
    // Already closing; nothing left to release.
  }
}

/**
 * Shares open/close transitions of attached breakers with every instance on the
 * same channel. Returns at once; the connection is made in the background.
 *
 * @example
 * const bus = createBreakerBus({ redis: process.env.REDIS_URL!, onError: (e) => log.warn('breaker bus', e) });
 * bus.attach(circuitBreaker({ name: 'abuseipdb' }));
 * // on shutdown
 * await bus.close();
 */
export function createBreakerBus(options: BreakerBusOptions): BreakerBus {
  return new RedisBreakerBus(options);
}
