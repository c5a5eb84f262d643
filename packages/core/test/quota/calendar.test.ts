import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConfigurationError } from '../../src/errors.js';
import { createCalendar } from '../../src/quota/calendar.js';

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

describe('calendar windows in America/New_York', () => {
  const calendar = createCalendar('America/New_York');

  it('has a 23-hour day when DST starts and a 25-hour day when it ends', () => {
    const spring = calendar.windowAt('day', Date.UTC(2024, 2, 10, 12));
    expect(spring.id).toBe('2024-03-10');
    expect(iso(spring.startMs)).toBe('2024-03-10T05:00:00.000Z'); // midnight EST
    expect(iso(spring.endMs)).toBe('2024-03-11T04:00:00.000Z'); // midnight EDT
    expect(spring.endMs - spring.startMs).toBe(23 * HOUR);

    const autumn = calendar.windowAt('day', Date.UTC(2024, 10, 3, 12));
    expect(autumn.id).toBe('2024-11-03');
    expect(autumn.endMs - autumn.startMs).toBe(25 * HOUR);
  });

  it('puts the last local millisecond of a day in that day, though it is the next day in UTC', () => {
    const lastMs = Date.UTC(2024, 0, 31, 4, 59, 59, 999); // 2024-01-30 23:59:59.999 EST
    expect(calendar.windowAt('day', lastMs).id).toBe('2024-01-30');
    expect(calendar.windowAt('day', lastMs + 1).id).toBe('2024-01-31');
  });

  it('ends January at local midnight, 05:00 UTC', () => {
    const january = calendar.windowAt('month', Date.UTC(2024, 0, 31, 23));
    expect(january.id).toBe('2024-01');
    expect(iso(january.startMs)).toBe('2024-01-01T05:00:00.000Z');
    expect(iso(january.endMs)).toBe('2024-02-01T05:00:00.000Z');
    expect(calendar.windowAt('month', january.endMs).id).toBe('2024-02');
  });

  it('gives March, which crosses the DST change, one hour less', () => {
    const march = calendar.windowAt('month', Date.UTC(2024, 2, 15));
    expect(iso(march.startMs)).toBe('2024-03-01T05:00:00.000Z');
    expect(iso(march.endMs)).toBe('2024-04-01T04:00:00.000Z');
    expect(march.endMs - march.startMs).toBe(31 * 24 * HOUR - HOUR);
  });
});

describe('calendar windows anywhere', () => {
  it('tiles time: each instant lies in its window, and windows meet edge to edge', () => {
    const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Apia'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'month' as const),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        (zone, period, atMs) => {
          const calendar = createCalendar(zone);
          const window = calendar.windowAt(period, atMs);
          expect(window.startMs).toBeLessThanOrEqual(atMs);
          expect(atMs).toBeLessThan(window.endMs);
          expect(calendar.windowAt(period, window.endMs).startMs).toBe(window.endMs);
          expect(calendar.windowAt(period, window.startMs - 1).endMs).toBe(window.startMs);
          expect(calendar.windowAt(period, window.startMs - 1).id).not.toBe(window.id);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('skips the day Samoa left out when it crossed the date line', () => {
    const apia = createCalendar('Pacific/Apia');
    const before = apia.windowAt('day', Date.UTC(2011, 11, 30, 9));
    expect(before.id).toBe('2011-12-29');
    expect(apia.windowAt('day', before.endMs).id).toBe('2011-12-31');
  });

  it('rejects an unknown zone with a ConfigurationError naming the key', () => {
    let caught: unknown;
    try {
      createCalendar('Mars/Olympus_Mons');
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    expect(String((caught as Error).message)).toContain('quota.timeZone');
  });
});
