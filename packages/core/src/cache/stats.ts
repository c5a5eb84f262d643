/**
 * Counters of what the cache did, per tier. Plain number fields: the hot path pays an
 * increment, and `snapshot` copies them for readers.
 */
import type { L1Tier } from './l1.js';
import type { L2GuardCounters } from './l2-guard.js';

export interface CacheStats {
  readonly l1: {
    /** Lookups answered by a fresh L1 entry. */
    readonly hits: number;
    /** Lookups that found no fresh L1 entry. */
    readonly misses: number;
    /** Entries pushed out by the entry or byte bound. */
    readonly evictions: number;
    readonly entries: number;
    readonly bytes: number;
  };
  readonly l2: {
    /** L1 misses answered by a fresh L2 entry. */
    readonly hits: number;
    /** L1 misses L2 could not answer fresh (absent, stale, or unreadable). */
    readonly misses: number;
    /** Stored envelopes of another schema version, treated as misses. */
    readonly schemaMismatches: number;
    readonly writes: number;
    readonly writeFailures: number;
    /** Operations that failed or timed out, and those skipped while L2 was down. */
    readonly errors: number;
    readonly timeouts: number;
    readonly skipped: number;
  };
  /** Stale values handed out in place of a failed or late fetch. */
  readonly staleServes: number;
  /** Upstream calls made by this instance. */
  readonly fetches: number;
  readonly fetchFailures: number;
  /** Lookups that joined a fetch already under way: in this process, or in another instance. */
  readonly coalesced: { readonly local: number; readonly remote: number };
  /** Background refreshes started by stale-while-revalidate. */
  readonly refreshes: number;
  /** Callers that stopped waiting at their deadline for a fetch that later landed and filled the cache. */
  readonly lateFills: number;
  /** Answers that were not JSON-serialisable and so were not cached. */
  readonly uncacheable: number;
}

export class CacheCounters {
  l1Hits = 0;
  l1Misses = 0;
  l2Hits = 0;
  l2Misses = 0;
  l2SchemaMismatches = 0;
  l2Writes = 0;
  l2WriteFailures = 0;
  staleServes = 0;
  fetches = 0;
  fetchFailures = 0;
  coalescedLocal = 0;
  coalescedRemote = 0;
  refreshes = 0;
  lateFills = 0;
  uncacheable = 0;

  snapshot(l1: L1Tier, guard: L2GuardCounters): CacheStats {
    return {
      l1: { hits: this.l1Hits, misses: this.l1Misses, evictions: l1.evictions, entries: l1.size, bytes: l1.bytes },
      l2: {
        hits: this.l2Hits,
        misses: this.l2Misses,
        schemaMismatches: this.l2SchemaMismatches,
        writes: this.l2Writes,
        writeFailures: this.l2WriteFailures,
        errors: guard.errors,
        timeouts: guard.timeouts,
        skipped: guard.skipped,
      },
      staleServes: this.staleServes,
      fetches: this.fetches,
      fetchFailures: this.fetchFailures,
      coalesced: { local: this.coalescedLocal, remote: this.coalescedRemote },
      refreshes: this.refreshes,
      lateFills: this.lateFills,
      uncacheable: this.uncacheable,
    };
  }
}
