import { afterEach, describe, expect, it } from 'vitest';
import { DeadlineTimer } from '../src/engine/deadline-timer.js';

const timeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const timers: DeadlineTimer[] = [];
function timer(now: () => number = () => performance.now()): DeadlineTimer {
  const created = new DeadlineTimer(now);
  timers.push(created);
  return created;
}
afterEach(() => {
  for (const created of timers.splice(0)) created.close();
});

describe('deadline timer', () => {
  it('fires deadlines in order of their due time, whatever order they came in', async () => {
    const deadlines = timer();
    const fired: string[] = [];
    const start = performance.now();
    deadlines.schedule(start + 40, () => fired.push('late'));
    deadlines.schedule(start + 10, () => fired.push('early'));
    deadlines.schedule(start + 25, () => fired.push('middle'));
    await sleep(70);
    expect(fired).toEqual(['early', 'middle', 'late']);
    expect(deadlines.size).toBe(0);
  });

  it('fires deadlines due within a millisecond of each other in one callback, before any promise reaction', async () => {
    const deadlines = timer();
    const order: string[] = [];
    const start = performance.now();
    for (const [name, offset] of [['a', 20], ['b', 20.4], ['c', 20.9]] as const) {
      deadlines.schedule(start + offset, () => {
        order.push(name);
        void Promise.resolve().then(() => order.push(`${name} reaction`));
      });
    }
    await sleep(50);
    expect(order).toEqual(['a', 'b', 'c', 'a reaction', 'b reaction', 'c reaction']);
  });

  it('never fires a cancelled deadline, and stops its timer once nothing waits', async () => {
    const before = timeouts();
    const deadlines = timer();
    let fired = 0;
    const start = performance.now();
    const first = deadlines.schedule(start + 20, () => fired++);
    const second = deadlines.schedule(start + 30, () => fired++);
    expect(timeouts()).toBe(before + 1);
    second.cancel();
    first.cancel();
    expect(deadlines.size).toBe(0);
    expect(timeouts()).toBe(before);
    await sleep(50);
    expect(fired).toBe(0);
  });

  it('brings its timer forward for a deadline due sooner than the one it waits for', async () => {
    const deadlines = timer();
    let firedAt = 0;
    const start = performance.now();
    deadlines.schedule(start + 1_000, () => undefined);
    deadlines.schedule(start + 20, () => (firedAt = performance.now()));
    await sleep(60);
    expect(firedAt - start).toBeGreaterThanOrEqual(19);
    expect(firedAt - start).toBeLessThan(500);
  });

  it('fires on its timer even when the clock it was given does not move', async () => {
    const deadlines = timer(() => 1_000);
    let fired = false;
    deadlines.schedule(1_020, () => (fired = true));
    await sleep(60);
    expect(fired).toBe(true);
  });

  it('fires every pending deadline at once on close, and leaves no timer', () => {
    const before = timeouts();
    const deadlines = timer();
    const fired: string[] = [];
    deadlines.schedule(performance.now() + 10_000, () => fired.push('pending'));
    deadlines.schedule(performance.now() + 20_000, () => fired.push('cancelled')).cancel();
    deadlines.close();
    expect(fired).toEqual(['pending']);
    expect(deadlines.size).toBe(0);
    expect(timeouts()).toBe(before);
  });
});
