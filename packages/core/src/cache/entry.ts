/**
 * What the cache holds for one key, and how it is written to and read back from an
 * L2 store. Times are on the cache's clock (epoch milliseconds).
 */

/**
 * One cached answer. `freshUntil` ends the time it is served as `cached`; until
 * `staleUntil` (the end of the grace period) it is kept as a fallback for failures.
 */
export interface CacheEntry<T> {
  readonly value: T;
  readonly fetchedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
}

/** An entry plus its approximate in-memory size, which L1 bounds by. */
export interface StoredEntry<T> extends CacheEntry<T> {
  readonly bytes: number;
}

/** The stored form in every L2 back-end; short field names because there can be millions. */
export interface Envelope {
  /** Schema version of this envelope. */
  readonly v: number;
  /** Fetched at. */
  readonly t: number;
  /** Fresh until. */
  readonly f: number;
  /** Stale (grace) until. */
  readonly s: number;
  /** The provider's answer. */
  readonly d: unknown;
}

/** The envelope layout this code writes; a stored envelope with any other `v` is a miss. */
export const CACHE_SCHEMA_VERSION = 1;

/** Rough per-entry bookkeeping cost (entry object, LRU slots), so tiny values still count. */
const ENTRY_OVERHEAD_BYTES = 96;

/** JSON text length as UTF-16 bytes, the way V8 holds most strings; `undefined` when not JSON-serialisable. */
export function serialisedBytes(value: unknown): number | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : text.length * 2;
  } catch {
    return undefined;
  }
}

export function createEntry<T>(value: T, fetchedAt: number, freshUntil: number, staleUntil: number, bytes: number): StoredEntry<T> {
  return Object.freeze({ value, fetchedAt, freshUntil, staleUntil, bytes: bytes + ENTRY_OVERHEAD_BYTES });
}

export function toEnvelope(entry: CacheEntry<unknown>, schemaVersion: number): Envelope {
  return { v: schemaVersion, t: entry.fetchedAt, f: entry.freshUntil, s: entry.staleUntil, d: entry.value };
}

/** Outcome of reading an envelope: an entry, nothing usable, or a layout from another schema version. */
export type DecodeResult = { readonly kind: 'entry'; readonly entry: StoredEntry<unknown> } | { readonly kind: 'absent' | 'schema-mismatch' };

const ABSENT: DecodeResult = { kind: 'absent' };
const MISMATCH: DecodeResult = { kind: 'schema-mismatch' };

/** Reads what an L2 store returned, trusting nothing about its shape. */
export function fromEnvelope(stored: unknown, schemaVersion: number): DecodeResult {
  if (typeof stored !== 'object' || stored === null) return ABSENT;
  const envelope = stored as Partial<Record<keyof Envelope, unknown>>;
  if (envelope.v !== schemaVersion) return MISMATCH;
  const { t, f, s } = envelope;
  if (typeof t !== 'number' || typeof f !== 'number' || typeof s !== 'number' || !('d' in envelope)) return MISMATCH;
  const bytes = serialisedBytes(envelope.d) ?? 0;
  return { kind: 'entry', entry: createEntry(envelope.d, t, f, s, bytes) };
}
