import { describe, expect, it } from 'vitest';
import { isConfigurationError } from '../../src/errors.js';
import { consecutiveFailures, countWindow, timeWindow, type BreakerStrategy } from '../../src/resilience/index.js';

type Call = 'ok' | 'fail' | 'slow' | 'slow-fail';

/** Feeds calls at `now` and returns what the strategy said after each. */
function feed(strategy: BreakerStrategy, calls: readonly Call[], now = 0): boolean[] {
  return calls.map((call) => strategy.record(call === 'fail' || call === 'slow-fail', call.startsWith('slow'), now));
}

const repeat = (call: Call, times: number): Call[] => Array.from({ length: times }, () => call);

function configurationIssues(create: () => unknown): readonly string[] {
  try {
    create();
  } catch (error) {
    if (isConfigurationError(error)) return error.issues;
    throw error;
  }
  return [];
}

describe('consecutiveFailures', () => {
  it('opens on the Nth failure or slow call in a row', () => {
    expect(feed(consecutiveFailures({ threshold: 3 }), ['fail', 'slow', 'fail'])).toEqual([false, false, true]);
    expect(feed(consecutiveFailures({ threshold: 3 }), ['fail', 'fail', 'ok', 'fail', 'fail'])).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('serialises its count', () => {
    const original = consecutiveFailures({ threshold: 3 });
    feed(original, ['fail', 'fail']);
    const copy = consecutiveFailures({ threshold: 3 });
    expect(copy.restore(JSON.parse(JSON.stringify(original.toJSON())))).toBe(true);
    expect(feed(copy, ['fail'])).toEqual([true]);
    expect(copy.restore({ kind: 'count-window' })).toBe(false);
    expect(copy.restore({ kind: 'consecutive-failures', failuresInARow: -1 })).toBe(false);
  });

  it('rejects a threshold below 1', () => {
    expect(configurationIssues(() => consecutiveFailures({ threshold: 0 }))).toHaveLength(1);
  });
});

describe('countWindow', () => {
  it('decides nothing below the minimum number of calls', () => {
    const strategy = countWindow({ size: 10, minimumCalls: 5, failureRate: 0.5 });
    expect(feed(strategy, repeat('fail', 5))).toEqual([false, false, false, false, true]);
  });

  it('opens when the failure share reaches the rate (inclusive)', () => {
    const strategy = countWindow({ size: 10, minimumCalls: 4, failureRate: 0.5 });
    expect(feed(strategy, ['ok', 'ok', 'ok', 'fail', 'fail'])).toEqual([false, false, false, false, false]);
    expect(feed(strategy, ['fail'])).toEqual([true]); // 3 of 6
  });

  it('looks only at the last `size` calls', () => {
    const strategy = countWindow({ size: 4, minimumCalls: 4, failureRate: 0.5 });
    feed(strategy, ['fail', 'fail', 'fail', 'ok']);
    // Each new success pushes one old failure out: 3/4, 2/4 -> still at the rate, then 1/4.
    expect(feed(strategy, ['ok', 'ok'])).toEqual([true, false]);
    expect(strategy.toJSON()).toEqual({ kind: 'count-window', size: 4, outcomes: '1000' });
  });

  it('opens on the slow-call rate, counting slow failures as slow too', () => {
    const strategy = countWindow({ size: 4, minimumCalls: 4, failureRate: 1, slowCallRate: 0.75 });
    expect(feed(strategy, ['slow', 'ok', 'slow-fail', 'slow'])).toEqual([false, false, false, true]);
  });

  it('forgets slow calls that leave the window', () => {
    const strategy = countWindow({ size: 3, minimumCalls: 3, failureRate: 1, slowCallRate: 2 / 3 });
    expect(feed(strategy, ['slow', 'ok', 'ok', 'ok', 'slow'])).toEqual([false, false, false, false, false]);
    expect(feed(strategy, ['slow'])).toEqual([true]);
  });

  it('handles floating-point rates exactly (3 of 30 is 10%)', () => {
    const strategy = countWindow({ size: 30, minimumCalls: 30, failureRate: 0.1 });
    const verdicts = feed(strategy, [...repeat('ok', 27), ...repeat('fail', 3)]);
    expect(verdicts.at(-1)).toBe(true);
  });

  it('reset() empties the window', () => {
    const strategy = countWindow({ size: 4, minimumCalls: 2, failureRate: 0.5 });
    feed(strategy, ['fail']);
    strategy.reset();
    expect(feed(strategy, ['ok', 'fail'])).toEqual([false, true]);
  });

  it('round-trips its outcomes and refuses a window of another size', () => {
    const original = countWindow({ size: 5, minimumCalls: 5, failureRate: 0.6 });
    feed(original, ['fail', 'ok', 'slow', 'fail', 'ok', 'ok', 'fail']);
    const copy = countWindow({ size: 5, minimumCalls: 5, failureRate: 0.6 });
    expect(copy.restore(JSON.parse(JSON.stringify(original.toJSON())))).toBe(true);
    expect(copy.toJSON()).toEqual(original.toJSON());
    expect(feed(copy, ['fail'])).toEqual(feed(original, ['fail']));
    expect(countWindow({ size: 6 }).restore(original.toJSON())).toBe(false);
    expect(copy.restore({ kind: 'count-window', size: 5, outcomes: '0x' })).toBe(false);
  });

  it('validates its options together', () => {
    const issues = configurationIssues(() => countWindow({ size: 3, minimumCalls: 4, failureRate: 1.5 }));
    expect(issues.join('\n')).toMatch(/minimumCalls[\s\S]*failureRate|failureRate[\s\S]*minimumCalls/);
  });
});

describe('timeWindow', () => {
  const tenthOfASecond = (): BreakerStrategy =>
    timeWindow({ windowMs: 1_000, buckets: 10, minimumCalls: 3, failureRate: 0.5 });

  it('counts calls of the last window only', () => {
    const strategy = tenthOfASecond();
    feed(strategy, ['fail', 'fail'], 0);
    // 950 ms later both failures are still inside the 10-bucket window.
    expect(feed(strategy, ['ok'], 950)).toEqual([true]);
    strategy.reset();
    feed(strategy, ['fail', 'fail'], 0);
    // 1 000 ms later their bucket has been recycled: one call is below the minimum.
    expect(feed(strategy, ['ok'], 1_000)).toEqual([false]);
  });

  it('slides one bucket at a time', () => {
    const strategy = tenthOfASecond();
    feed(strategy, ['fail'], 0);
    feed(strategy, ['fail'], 150);
    expect(feed(strategy, ['ok', 'ok'], 1_050)).toEqual([false, false]); // only the 150 ms failure remains: 1 of 3
    expect(feed(strategy, ['fail'], 1_060)).toEqual([true]); // 2 of 4
  });

  it('forgets everything after a long silence, however long', () => {
    const strategy = tenthOfASecond();
    feed(strategy, repeat('fail', 100), 0);
    expect(feed(strategy, ['ok', 'ok', 'ok'], 1e12)).toEqual([false, false, false]);
  });

  it('files calls from a clock that stepped back into the newest bucket', () => {
    const strategy = tenthOfASecond();
    feed(strategy, ['ok', 'ok'], 5_000);
    expect(feed(strategy, ['fail', 'fail'], 1_000)).toEqual([false, true]);
  });

  it('opens on the slow-call rate', () => {
    const strategy = timeWindow({ windowMs: 1_000, buckets: 4, minimumCalls: 2, failureRate: 1, slowCallRate: 0.5 });
    expect(feed(strategy, ['ok', 'slow'], 10)).toEqual([false, true]);
  });

  it('round-trips its buckets and drops ones that fall out of the window', () => {
    const original = tenthOfASecond();
    feed(original, ['fail'], 0);
    feed(original, ['ok', 'slow'], 420);
    const json = JSON.parse(JSON.stringify(original.toJSON()));
    expect(json).toEqual({
      kind: 'time-window',
      bucketMs: 100,
      buckets: [
        [0, 1, 1, 0],
        [4, 2, 0, 1],
      ],
    });
    const copy = tenthOfASecond();
    expect(copy.restore(json)).toBe(true);
    expect(copy.toJSON()).toEqual(json);
    expect(feed(copy, ['fail'], 500)).toEqual([true]); // 2 of 4
    expect(copy.restore({ ...json, buckets: [[4, 1, 0, 0], [0, 1, 1, 0]] })).toBe(false); // not oldest first
    expect(copy.restore({ ...json, bucketMs: 50 })).toBe(false);
  });
});
