import { describe, expect, it } from 'vitest';
import { BulkheadFullError, isBulkheadFullError, isConfigurationError } from '../../src/errors.js';
import { bulkhead } from '../../src/resilience/index.js';

/** A promise a test settles by hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('bulkhead', () => {
  it('runs at most maxConcurrent calls, queues maxQueue, and rejects the rest at once', async () => {
    const pool = bulkhead({ name: 'dnsbl', maxConcurrent: 2, maxQueue: 1 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const calls = gates.map((gate, index) =>
      pool.execute(async () => {
        started.push(index);
        await gate.promise;
        return index;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    expect([pool.active, pool.queued]).toEqual([2, 1]);

    const overflow = await pool.execute(async () => 'never').catch((error: unknown) => error);
    expect(isBulkheadFullError(overflow)).toBe(true);
    expect(overflow).toBeInstanceOf(BulkheadFullError);
    expect((overflow as Error).message).toContain('dnsbl');

    gates[0]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]); // the queued call took over the freed slot
    expect([pool.active, pool.queued]).toEqual([2, 0]);

    gates[1]!.resolve();
    gates[2]!.resolve();
    await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2]);
    expect([pool.active, pool.queued]).toEqual([0, 0]);
  });

  it('serves the queue first-in first-out', async () => {
    const pool = bulkhead({ name: 'fifo', maxConcurrent: 1, maxQueue: 3 });
    const gate = deferred();
    const order: string[] = [];
    const first = pool.execute(() => gate.promise);
    const queued = ['a', 'b', 'c'].map((label) => pool.execute(async () => order.push(label)));
    gate.resolve();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('frees the slot when the call fails', async () => {
    const pool = bulkhead({ name: 'failing', maxConcurrent: 1 });
    const failure = new Error('upstream');
    await expect(pool.execute(() => Promise.reject(failure))).rejects.toBe(failure);
    await expect(
      pool.execute(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(pool.active).toBe(0);
    await expect(pool.execute(() => 'next')).resolves.toBe('next');
  });

  it('a queued call leaves the queue when its signal fires, and never runs', async () => {
    const pool = bulkhead({ name: 'abortable', maxConcurrent: 1, maxQueue: 2 });
    const gate = deferred();
    const running = pool.execute(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const abandoned = pool.execute(async () => {
      ran = true;
    }, controller.signal);
    const kept = pool.execute(async () => 'kept');
    expect(pool.queued).toBe(2);

    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(abandoned).rejects.toBe(reason);
    expect(pool.queued).toBe(1);

    gate.resolve();
    await running;
    await expect(kept).resolves.toBe('kept');
    expect(ran).toBe(false);
    expect([pool.active, pool.queued]).toEqual([0, 0]);
  });

  it('an already aborted signal rejects without taking a slot', async () => {
    const pool = bulkhead({ name: 'aborted', maxConcurrent: 1 });
    const reason = new Error('gone');
    await expect(pool.execute(async () => 1, AbortSignal.abort(reason))).rejects.toBe(reason);
    await expect(pool.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(pool.active).toBe(0);
  });

  it('an abort after the call got its slot does not disturb the queue', async () => {
    const pool = bulkhead({ name: 'late-abort', maxConcurrent: 1, maxQueue: 1 });
    const gate = deferred();
    const running = pool.execute(() => gate.promise);
    const controller = new AbortController();
    const queued = pool.execute(async () => 'ran', controller.signal);
    gate.resolve();
    await running;
    await expect(queued).resolves.toBe('ran');
    controller.abort();
    expect([pool.active, pool.queued]).toEqual([0, 0]);
  });

  it('offers a non-queueing tryAcquire/release pair', () => {
    const pool = bulkhead({ name: 'low-level', maxConcurrent: 2 });
    expect([pool.tryAcquire(), pool.tryAcquire(), pool.tryAcquire()]).toEqual([true, true, false]);
    pool.release();
    expect(pool.tryAcquire()).toBe(true);
    pool.release();
    pool.release();
    pool.release(); // one too many: ignored rather than admitting a third call
    expect([pool.tryAcquire(), pool.tryAcquire(), pool.tryAcquire()]).toEqual([true, true, false]);
  });

  it('validates its options', () => {
    let caught: unknown;
    try {
      bulkhead({ name: 'bad', maxConcurrent: 0, maxQueue: -1 });
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    expect((caught as { issues: readonly string[] }).issues).toHaveLength(2);
  });
});
