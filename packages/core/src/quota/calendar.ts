/**
 * Calendar days and months in an IANA time zone, found with Intl.DateTimeFormat alone.
 *
 * A window's edges are found by bisecting on the instant where the zone's local date
 * changes, rather than by adding 24 hours: days across a DST change last 23 or 25 hours,
 * and some zones have skipped or repeated whole local days.
 */

import { ConfigurationError } from '../errors.js';

/** The calendar periods a quota can count in. */
export type CalendarPeriod = 'day' | 'month';

/** One calendar window: [startMs, endMs) in epoch milliseconds. */
export interface CalendarWindow {
  /** `YYYY-MM-DD` for a day, `YYYY-MM` for a month, in the zone's local calendar. */
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Finds the calendar window that holds an instant, in one time zone. */
export interface Calendar {
  readonly timeZone: string;
  windowAt(period: CalendarPeriod, atMs: number): CalendarWindow;
}

const HOUR_MS = 3_600_000;
/** Wider than the longest local day or month, so the search range always holds the edge. */
const SEARCH_SPAN_MS: Record<CalendarPeriod, number> = { day: 50 * HOUR_MS, month: 33 * 24 * HOUR_MS };

/**
 * Builds a calendar for one IANA time zone; throws ConfigurationError for an unknown zone.
 *
 * @example
 * const calendar = createCalendar('America/New_York');
 * calendar.windowAt('day', Date.UTC(2024, 2, 10, 12)); // { id: '2024-03-10', ... } — a 23-hour day
 */
export function createCalendar(timeZone: string): Calendar {
  const format = localDateFormat(timeZone);
  const cache = new Map<CalendarPeriod, CalendarWindow>();

  // Local date as a sortable number: 20240310 for a day, 202403 for a month.
  const ordinal = (period: CalendarPeriod, atMs: number): number => {
    const { year, month, day } = localDate(format, atMs);
    return period === 'day' ? year * 10_000 + month * 100 + day : year * 100 + month;
  };

  const compute = (period: CalendarPeriod, atMs: number): CalendarWindow => {
    const current = ordinal(period, atMs);
    const span = SEARCH_SPAN_MS[period];
    // Invariant of both searches: ordinal(low) and ordinal(high) lie on opposite sides of the edge.
    let low = atMs - span;
    let high = atMs;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (ordinal(period, middle) < current) low = middle;
      else high = middle;
    }
    const startMs = high;
    low = atMs;
    high = atMs + span;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (ordinal(period, middle) > current) high = middle;
      else low = middle;
    }
    return { id: windowId(period, current), startMs, endMs: high };
  };

  return {
    timeZone,
    windowAt(period, atMs) {
      const cached = cache.get(period);
      if (cached !== undefined && cached.startMs <= atMs && atMs < cached.endMs) return cached;
      const window = compute(period, atMs);
      cache.set(period, window);
      return window;
    },
  };
}

function localDateFormat(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
  } catch {
    throw new ConfigurationError([`quota.timeZone: expected an IANA time zone such as "Europe/Berlin", got "${timeZone}"`]);
  }
}

function localDate(format: Intl.DateTimeFormat, atMs: number): { year: number; month: number; day: number } {
  let year = 0;
  let month = 0;
  let day = 0;
  for (const part of format.formatToParts(atMs)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
  }
  return { year, month, day };
}

function windowId(period: CalendarPeriod, ordinalValue: number): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  if (period === 'month') return `${Math.floor(ordinalValue / 100)}-${pad(ordinalValue % 100)}`;
  const year = Math.floor(ordinalValue / 10_000);
  return `${year}-${pad(Math.floor(ordinalValue / 100) % 100)}-${pad(ordinalValue % 100)}`;
}
