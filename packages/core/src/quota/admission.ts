/**
 * What a quota back-end answers when asked to let one call through, and the interface
 * the local and the Redis-shared back-ends both implement.
 */

import type { Meter } from './meters.js';
import type { PauseReason, PauseRequest } from './pause.js';

/**
 * Where the quota's counts live: this process (and its store), Redis, or this process
 * standing in for an unreachable Redis.
 *
 * @example
 * if ((await quota.snapshot()).mode === 'fallback') alert('quotas are local while Redis is away');
 */
export type QuotaMode = 'local' | 'shared' | 'fallback';

export interface AdmissionRequest {
  readonly highValue: boolean;
  /** Cost of this call in millionths of the currency unit. */
  readonly costMicros: number;
  /** The longest the caller can wait for a rate-limit slot. */
  readonly maxWaitMs: number;
}

/** One increment of one meter bucket, as made by an admitted call. */
export interface Charge {
  readonly key: string;
  readonly amount: number;
  readonly ttlMs: number;
}

export type Admission =
  | { readonly kind: 'admitted'; readonly delayMs: number; readonly charges: readonly Charge[] }
  | { readonly kind: 'paused'; readonly ms: number; readonly reason: PauseReason }
  | { readonly kind: 'rate-limited'; readonly waitMs: number }
  | {
      readonly kind: 'exhausted';
      readonly meter: Meter;
      readonly resetAtMs: number;
      /** True when only the reserve is left: a high-value call would still have gone through. */
      readonly reserveOnly: boolean;
    };

export interface MeterReading {
  readonly meter: Meter;
  readonly used: number;
  readonly resetAtMs: number;
}

export interface BackendReading {
  readonly meters: readonly MeterReading[];
  /** A pause the back-end knows of beyond this process's own. */
  readonly pause?: PauseRequest;
}

export interface AdmissionBackend {
  readonly mode: QuotaMode;
  admit(request: AdmissionRequest): Promise<Admission>;
  /** Shares a pause with the other instances; never rejects. */
  sharePause(pause: PauseRequest): Promise<void>;
  read(): Promise<BackendReading>;
  /** Resolves true once the back-end's storage answers, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The amount one call adds to a meter. */
export function amountFor(meter: Meter, costMicros: number): number {
  return meter.spec.unit === 'calls' ? 1 : costMicros;
}
