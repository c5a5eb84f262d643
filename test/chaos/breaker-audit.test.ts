/**
 * The chaos suite's breaker audit must catch what it claims to, or the chaos test's
 * breaker assertion would pass on anything.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '@formsecurity/core';
import { auditBreakers, breakerHistory } from './breaker-audit.js';
import type { TimedEvent } from './breaker-audit.js';

const CONFIG = { initialMs: 1_000, maxMs: 2_000 };
const provider = 'stopforumspam';

const open = (at: number, periodMs: number, reason: 'threshold' | 'probe-failed' = 'threshold'): TimedEvent => ({
  at,
  event: { type: 'breaker.open', provider, reason, origin: 'local', untilMs: at + periodMs },
});
const halfOpen = (at: number): TimedEvent => ({ at, event: { type: 'breaker.half-open', provider } });
const close = (at: number): TimedEvent => ({ at, event: { type: 'breaker.close', provider, reason: 'probes-succeeded', origin: 'local' } });
const other = (at: number): TimedEvent => ({ at, event: { type: 'cache.l2.down', reason: 'timeout' } satisfies EngineEvent });

describe('auditBreakers', () => {
  it('accepts open → half-open → open (probe failed, longer) → half-open → close', () => {
    const events = [open(0, 1_000), other(10), halfOpen(1_200), open(1_201, 2_000, 'probe-failed'), halfOpen(3_300), close(3_301)];
    expect(auditBreakers(events, CONFIG)).toEqual([]);
    expect(breakerHistory(events)).toEqual({ [provider]: ['open', 'half-open', 'open', 'half-open', 'close'] });
  });

  it('flags a half-open before the open period ended', () => {
    expect(auditBreakers([open(0, 1_000), halfOpen(500)], CONFIG)).toEqual([expect.stringContaining('before the open period ended')]);
  });

  it('flags an open period outside the configured bounds', () => {
    expect(auditBreakers([open(0, 300)], CONFIG)).toEqual([expect.stringContaining('open for 300 ms')]);
    expect(auditBreakers([open(0, 5_000)], CONFIG)).toEqual([expect.stringContaining('open for 5000 ms')]);
  });

  it('flags transitions out of order', () => {
    expect(auditBreakers([halfOpen(0)], CONFIG)).toEqual([expect.stringContaining('without a preceding open')]);
    expect(auditBreakers([open(0, 1_000), close(1_100)], CONFIG)).toEqual([expect.stringContaining('closed from breaker.open')]);
    expect(auditBreakers([open(0, 1_000, 'probe-failed')], CONFIG)).toEqual([expect.stringContaining('first open for reason probe-failed')]);
    expect(auditBreakers([open(0, 1_000), open(10, 1_000)], CONFIG)).toEqual([expect.stringContaining('opened twice in a row')]);
  });
});
