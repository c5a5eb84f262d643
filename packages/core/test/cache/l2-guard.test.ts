import { afterEach, describe, expect, it } from 'vitest';
import { CacheEventEmitter } from '../../src/cache/events.js';
import { L2_UNAVAILABLE, L2Guard } from '../../src/cache/l2-guard.js';

function setup(): { guard: L2Guard; events: string[]; advance: (ms: number) => void } {
  let now = 0;
  const emitter = new CacheEventEmitter();
  const events: string[] = [];
  emitter.on('l2.up', () => events.push('up'));
  emitter.on('l2.down', ({ reason }) => events.push(`down:${reason}`));
  const guard = new L2Guard({ timeoutMs: 5, failureThreshold: 3, openMs: 1_000, monotonic: () => now }, emitter);
  guards.push(guard);
  return { guard, events, advance: (ms) => (now += ms) };
}

const guards: L2Guard[] = [];
afterEach(() => guards.splice(0).forEach((guard) => guard.close()));

const failing = (): Promise<never> => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
const working = (): Promise<string> => Promise.resolve('value');

describe('L2 guard', () => {
  it('skips L2 until the back-end reports it is up', async () => {
    const { guard, events } = setup();
    expect(await guard.run('get', working)).toBe(L2_UNAVAILABLE);
    expect(guard.counters.skipped).toBe(1);
    guard.markUp();
    expect(await guard.run('get', working)).toBe('value');
    expect(events).toEqual(['up']);
  });

  it('opens after consecutive failures, probes once after the pause, and closes on success', async () => {
    const { guard, events, advance } = setup();
    guard.markUp();
    expect(await guard.run('get', failing)).toBe(L2_UNAVAILABLE);
    expect(await guard.run('get', working)).toBe('value');
    for (let i = 0; i < 3; i++) await guard.run('get', failing);
    expect(guard.up).toBe(false);
    expect(events).toEqual(['up', 'down:ECONNREFUSED']);

    let calls = 0;
    const counted = (): Promise<string> => (calls++, working());
    expect(await guard.run('get', counted)).toBe(L2_UNAVAILABLE);
    expect(calls).toBe(0);

    advance(1_000);
    expect(guard.allows()).toBe(true);
    expect(guard.allows()).toBe(false);
    guard.markDown('probe failed');
    advance(1_000);
    expect(await guard.run('get', counted)).toBe('value');
    expect(calls).toBe(1);
    expect(events).toEqual(['up', 'down:ECONNREFUSED', 'up']);
  });

  it('counts a slow operation as a timeout and does not wait for it', async () => {
    const { guard } = setup();
    guard.markUp();
    const never = new Promise<string>(() => undefined);
    expect(await guard.run('get', () => never)).toBe(L2_UNAVAILABLE);
    expect(guard.counters).toMatchObject({ timeouts: 1, errors: 0 });
  });

  it('reports each change of health once', () => {
    const { guard, events } = setup();
    guard.markDown('ECONNREFUSED');
    guard.markDown('ECONNREFUSED');
    guard.markUp();
    guard.markUp();
    expect(events).toEqual(['down:ECONNREFUSED', 'up']);
  });

  it('keeps serving when a listener throws', async () => {
    const emitter = new CacheEventEmitter();
    emitter.on('l2.up', () => {
      throw new Error('listener bug');
    });
    const guard = new L2Guard({ timeoutMs: 5, failureThreshold: 1, openMs: 10, monotonic: () => 0 }, emitter);
    guards.push(guard);
    expect(() => guard.markUp()).not.toThrow();
    expect(await guard.run('get', working)).toBe('value');
  });

  it('probes in the background while open, so health recovers without traffic', async () => {
    const emitter = new CacheEventEmitter();
    const guard = new L2Guard({ timeoutMs: 50, failureThreshold: 1, openMs: 10, monotonic: () => performance.now() }, emitter);
    guards.push(guard);
    let answering = false;
    guard.setProbe(() => (answering ? working() : failing()));
    guard.markDown('ECONNREFUSED');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(guard.up).toBe(false);
    answering = true;
    const deadline = Date.now() + 2_000;
    while (!guard.up && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(guard.up).toBe(true);
  });
});

describe('L2 guard and the single-flight lock', () => {
  const hanging = (): Promise<never> => new Promise(() => undefined);

  it('a slow lock step answers "unavailable" without counting against L2; a slow read does count', async () => {
    const { guard, events } = setup();
    guard.markUp();
    for (let i = 0; i < 5; i++) expect(await guard.run('lock', hanging)).toBe(L2_UNAVAILABLE);
    expect(guard.up).toBe(true);
    for (let i = 0; i < 3; i++) await guard.run('get', hanging);
    expect(guard.up).toBe(false);
    expect(events).toEqual(['up', 'down:timeout']);
  });

  it('lock steps still run while L2 is open for slowness, and stop once it errors', async () => {
    const { guard, events } = setup();
    guard.markUp();
    for (let i = 0; i < 3; i++) await guard.run('get', hanging);
    expect(events).toEqual(['up', 'down:timeout']);
    expect(await guard.run('get', working)).toBe(L2_UNAVAILABLE);
    expect(await guard.run('lock', working)).toBe('value');
    expect(await guard.run('publish', hanging)).toBe(L2_UNAVAILABLE);
    // Neither the lock step that worked nor the slow one changed what reads see.
    expect(guard.up).toBe(false);
    expect(await guard.run('get', working)).toBe(L2_UNAVAILABLE);
    expect(await guard.run('lock', failing)).toBe(L2_UNAVAILABLE);
    const skipped = guard.counters.skipped;
    expect(await guard.run('lock', working)).toBe(L2_UNAVAILABLE);
    expect(guard.counters.skipped).toBe(skipped + 1);
    expect(events).toEqual(['up', 'down:timeout']);
  });

  it('a lock step that fails outright still counts', async () => {
    const { guard } = setup();
    guard.markUp();
    for (let i = 0; i < 3; i++) await guard.run('lock', failing);
    expect(guard.up).toBe(false);
  });
});
