import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  circuitBreaker,
  consecutiveFailures,
  createBreakerBus,
  parseBreakerMessage,
  type BreakerBus,
  type BreakerBusOptions,
  type CircuitBreaker,
} from '../../src/resilience/index.js';
import { freePort, SHARED_REDIS_URL, startPrivateRedis, uniquePrefix, waitFor, type PrivateRedis } from './support/redis.js';

const PROVIDER = 'shared-provider';

/** Everything a test opens, closed again afterwards even when the test fails. */
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function breaker(): CircuitBreaker {
  return circuitBreaker({
    name: PROVIDER,
    strategy: consecutiveFailures({ threshold: 1 }),
    backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
  });
}

function trip(target: CircuitBreaker): void {
  const permit = target.tryAcquire();
  if (permit === false) throw new Error('breaker already open');
  target.recordFailure(permit, new Error('upstream down'));
}

function bus(options: BreakerBusOptions): BreakerBus {
  const created = createBreakerBus(options);
  cleanups.push(() => created.close());
  return created;
}

/** Two instances (buses with their own breaker) on one channel of the shared Redis. */
async function twoInstances(url = SHARED_REDIS_URL, extra: Partial<BreakerBusOptions> = {}) {
  const channel = `${uniquePrefix()}breaker`;
  const a = { breaker: breaker(), bus: bus({ redis: url, channel, instanceId: 'a', ...extra }) };
  const b = { breaker: breaker(), bus: bus({ redis: url, channel, instanceId: 'b', ...extra }) };
  const detachA = a.bus.attach(a.breaker);
  const detachB = b.bus.attach(b.breaker);
  await Promise.all([a.bus.ready, b.bus.ready]);
  return { a: { ...a, detach: detachA }, b: { ...b, detach: detachB }, channel };
}

describe('breaker bus on the shared Redis', () => {
  it('opens and closes the same-named breaker of another instance, without echo', async () => {
    const { a, b, channel } = await twoInstances();
    const raw = createClient({ url: SHARED_REDIS_URL });
    cleanups.push(() => raw.destroy());
    await raw.connect();
    const messages: string[] = [];
    await raw.subscribe(channel, (message) => void messages.push(message));

    const aEvents: string[] = [];
    const bEvents: string[] = [];
    a.breaker.on('open', (event) => aEvents.push(`open:${event.origin}`));
    a.breaker.on('close', (event) => aEvents.push(`close:${event.origin}`));
    b.breaker.on('open', (event) => bEvents.push(`open:${event.origin}`));
    b.breaker.on('close', (event) => bEvents.push(`close:${event.origin}`));

    trip(a.breaker);
    await waitFor(() => b.breaker.state.kind === 'open', 1_000, 'remote open');
    const state = b.breaker.state;
    expect(state.kind === 'open' && state.until - state.since).toBeGreaterThan(59_000); // the sender's period

    a.breaker.reset();
    await waitFor(() => b.breaker.state.kind === 'closed', 1_000, 'remote close');

    trip(b.breaker);
    await waitFor(() => a.breaker.state.kind === 'open', 1_000, 'open in the other direction');
    await waitFor(() => messages.length === 3, 1_000, 'three messages');
    // Give an echo time to arrive before asserting there was none.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(aEvents).toEqual(['open:local', 'close:local', 'open:remote']);
    expect(bEvents).toEqual(['open:remote', 'close:remote', 'open:local']);

    expect(messages).toHaveLength(3);
    const parsed = messages.map((message) => JSON.parse(message) as Record<string, unknown>);
    expect(Object.keys(parsed[0]!).sort()).toEqual(['at', 'instance', 'manual', 'provider', 'state', 'until', 'v']);
    expect(parsed[0]).toMatchObject({ v: 1, provider: PROVIDER, state: 'open', manual: false, instance: 'a' });
    expect(Object.keys(parsed[1]!).sort()).toEqual(['at', 'instance', 'manual', 'provider', 'state', 'v']);
    expect(parsed[1]).toMatchObject({ state: 'closed', manual: true, instance: 'a' });
  });

  it('never applies its own messages, which would replay stale transitions', async () => {
    const { a, b } = await twoInstances();
    const aEvents: string[] = [];
    a.breaker.on('open', (event) => aEvents.push(`open:${event.origin}`));
    a.breaker.on('close', (event) => aEvents.push(`close:${event.origin}`));
    const bEvents: string[] = [];
    b.breaker.on('close', () => bEvents.push('close'));
    trip(a.breaker);
    a.breaker.reset(); // closed again before its own "open" comes back from Redis
    await waitFor(() => bEvents.length === 1, 1_000, 'b to see both messages');
    // a's subscription got the same two messages no later than b's did.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.breaker.state.kind).toBe('closed');
    expect(aEvents).toEqual(['open:local', 'close:local']);
  });

  it('spreads isolation, which only a manual reset lifts', async () => {
    const { a, b } = await twoInstances();
    a.breaker.isolate();
    await waitFor(() => b.breaker.state.kind === 'open', 1_000, 'remote isolation');
    expect(b.breaker.state).toMatchObject({ isolated: true });
    a.breaker.reset();
    await waitFor(() => b.breaker.state.kind === 'closed', 1_000, 'remote reset');
  });

  it('ignores malformed messages, unknown providers and its own instance id', async () => {
    const channel = `${uniquePrefix()}breaker`;
    const target = breaker();
    const errors: unknown[] = [];
    const subject = bus({ redis: SHARED_REDIS_URL, channel, instanceId: 'me', onError: (e) => errors.push(e) });
    subject.attach(target);
    await subject.ready;
    const raw = createClient({ url: SHARED_REDIS_URL });
    cleanups.push(() => raw.destroy());
    await raw.connect();

    const valid = { v: 1, provider: PROVIDER, state: 'open', manual: false, instance: 'other', at: 1, until: 30_001 };
    for (const junk of [
      'not json',
      '[]',
      JSON.stringify({ ...valid, v: 2 }),
      JSON.stringify({ ...valid, state: 'half-open' }),
      JSON.stringify({ ...valid, until: 'soon' }),
      JSON.stringify({ ...valid, provider: 'someone-else' }),
      JSON.stringify({ ...valid, instance: 'me' }),
      JSON.stringify({ ...valid, padding: 'x'.repeat(5_000) }),
    ]) {
      await raw.publish(channel, junk);
    }
    await raw.publish(channel, JSON.stringify(valid));
    await waitFor(() => target.state.kind === 'open', 1_000, 'the one valid message');
    const state = target.state;
    expect(state.kind === 'open' && state.until - state.since).toBe(30_000);
    expect(errors).toEqual([]);
  });

  it('works with a client the application created, and leaves that client open', async () => {
    const channel = `${uniquePrefix()}breaker`;
    const appClient = createClient({ url: SHARED_REDIS_URL });
    cleanups.push(() => appClient.destroy());
    await appClient.connect();
    const local = breaker();
    const remote = breaker();
    const viaClient = bus({ redis: appClient, channel, instanceId: 'app' });
    const viaUrl = bus({ redis: SHARED_REDIS_URL, channel, instanceId: 'other' });
    viaClient.attach(local);
    viaUrl.attach(remote);
    await Promise.all([viaClient.ready, viaUrl.ready]);
    trip(local);
    await waitFor(() => remote.state.kind === 'open', 1_000, 'open via the application client');
    await viaClient.close();
    expect(appClient.isReady).toBe(true);
    await expect(appClient.ping()).resolves.toBe('PONG');
  });

  it('refuses two breakers of the same name on one bus; a detached breaker neither hears nor speaks', async () => {
    const { a, b, channel } = await twoInstances();
    expect(() => a.bus.attach(breaker())).toThrow(/already attached/);
    const raw = createClient({ url: SHARED_REDIS_URL });
    cleanups.push(() => raw.destroy());
    await raw.connect();
    const fromB: string[] = [];
    await raw.subscribe(channel, (message) => {
      if (parseBreakerMessage(message)?.instance === 'b') fromB.push(message);
    });

    b.detach();
    // The replacement takes the freed name. Pub/sub keeps order, so once it has
    // heard a message, the detached breaker would have heard it too.
    const replacement = breaker();
    b.bus.attach(replacement);
    trip(a.breaker);
    await waitFor(() => replacement.state.kind === 'open', 1_000, 'the replacement to hear');
    expect(b.breaker.state.kind).toBe('closed');

    replacement.reset();
    a.breaker.reset();
    await waitFor(() => fromB.length === 1, 1_000, "the replacement's reset");
    trip(b.breaker); // detached: must not be announced
    trip(replacement);
    await waitFor(() => fromB.length >= 2, 1_000, "the replacement's open");
    await waitFor(() => a.breaker.state.kind === 'open', 1_000, 'a to hear the replacement');
    expect(fromB.map((message) => parseBreakerMessage(message)?.state)).toEqual(['closed', 'open']);
  });
});

describe('breaker bus without Redis', () => {
  it('keeps the breaker working in-process when Redis is unreachable from the start', async () => {
    const port = await freePort(); // nothing listens here
    const errors: unknown[] = [];
    const local = breaker();
    const isolated = bus({
      redis: `redis://127.0.0.1:${port}`,
      channel: `${uniquePrefix()}breaker`,
      maxReconnectDelayMs: 50,
      onError: (error) => errors.push(error),
    });
    isolated.attach(local);
    trip(local);
    expect(local.state.kind).toBe('open');
    local.reset();
    await waitFor(() => errors.length >= 2, 2_000, 'connection errors reported');
    expect(isolated.connected).toBe(false);
    const started = performance.now();
    await isolated.close();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('survives Redis dying and resumes sharing when it comes back', async () => {
    const port = await freePort();
    let redis: PrivateRedis = await startPrivateRedis(port);
    cleanups.push(() => redis.kill());
    const { a, b } = await twoInstances(redis.url, { maxReconnectDelayMs: 100, onError: () => {} });
    trip(a.breaker);
    await waitFor(() => b.breaker.state.kind === 'open', 1_000, 'open before the outage');
    a.breaker.reset();
    await waitFor(() => b.breaker.state.kind === 'closed', 1_000, 'close before the outage');

    await redis.kill();
    await waitFor(() => !a.bus.connected && !b.bus.connected, 2_000, 'both buses to notice');
    trip(a.breaker); // published nowhere: must neither throw nor reject
    expect(a.breaker.state.kind).toBe('open');
    a.breaker.reset();

    redis = await startPrivateRedis(port);
    await waitFor(() => a.bus.connected && b.bus.connected, 5_000, 'both buses to reconnect');
    expect(b.breaker.state.kind).toBe('closed'); // the transitions during the outage were dropped, not replayed
    // Resubscription after reconnect can lag the connection by a moment: retry the trip until it lands.
    await waitFor(
      () => {
        if (a.breaker.state.kind === 'closed') trip(a.breaker);
        else a.breaker.reset();
        return b.breaker.state.kind === 'open';
      },
      3_000,
      'open after the outage',
    );
  });
});

describe('breaker bus across processes', () => {
  it('two processes open and close each other within a second', async () => {
    const channel = `${uniquePrefix()}breaker`;
    const fixture = fileURLToPath(new URL('./fixtures/bus-peer.ts', import.meta.url));
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: fileURLToPath(new URL('../../../../', import.meta.url)),
      env: { ...process.env, REDIS_URL: SHARED_REDIS_URL, BUS_CHANNEL: channel },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const peerEvents: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      peerEvents.push(JSON.parse(line) as Record<string, unknown>);
    });
    const send = (command: string): void => void child.stdin.write(`${command}\n`);
    const peerSaid = (event: string, origin?: string) => (): boolean =>
      peerEvents.some((e) => e['event'] === event && (origin === undefined || e['origin'] === origin));

    const local = breaker();
    const here = bus({ redis: SHARED_REDIS_URL, channel, instanceId: 'test-process' });
    here.attach(local);
    await here.ready;
    await waitFor(peerSaid('ready'), 15_000, `the peer process to start (${stderr})`);

    send('trip');
    const openedIn = await waitFor(() => local.state.kind === 'open', 1_000, 'peer open to arrive');
    send('reset');
    const closedIn = await waitFor(() => local.state.kind === 'closed', 1_000, 'peer close to arrive');

    trip(local);
    await waitFor(peerSaid('open', 'remote'), 1_000, 'our open to reach the peer');
    local.reset();
    await waitFor(peerSaid('close', 'remote'), 1_000, 'our close to reach the peer');

    expect(openedIn).toBeLessThan(1_000);
    expect(closedIn).toBeLessThan(1_000);
    expect(peerEvents.filter((e) => e['event'] === 'error')).toEqual([]);
    send('exit');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe('parseBreakerMessage', () => {
  it('accepts exactly the documented shapes', () => {
    const open = { v: 1, provider: 'p', state: 'open', manual: false, instance: 'i', at: 5, until: 10 };
    expect(parseBreakerMessage(JSON.stringify(open))).toEqual(open);
    expect(parseBreakerMessage(JSON.stringify({ ...open, manual: true, until: undefined }))).toEqual({
      v: 1,
      provider: 'p',
      state: 'open',
      manual: true,
      instance: 'i',
      at: 5,
    });
    expect(parseBreakerMessage(JSON.stringify({ ...open, until: undefined }))).toBeUndefined();
    expect(parseBreakerMessage(JSON.stringify({ ...open, manual: 'no' }))).toBeUndefined();
    expect(parseBreakerMessage(JSON.stringify({ ...open, at: null }))).toBeUndefined();
  });
});
