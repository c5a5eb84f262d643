/**
 * Admission decided in this process alone: its rate logs and its ledger (persisted in
 * the store when one is configured). Used on its own for a single instance, and by the
 * shared back-end as its stand-in while Redis is unreachable.
 */

import {
  amountFor,
  type Admission,
  type AdmissionBackend,
  type AdmissionRequest,
  type BackendReading,
  type Charge,
} from './admission.js';
import type { Ledger } from './ledger.js';
import type { Meter, MeterPlan } from './meters.js';
import type { PauseRequest } from './pause.js';
import type { RateLog } from './rate-log.js';

/**
 * How much of each limit this process may use. A single instance uses everything; a
 * stand-in for Redis uses `share` of what was left when Redis was last seen.
 */
export interface LocalAllowance {
  readonly share: number;
  /** Usage already counted elsewhere in the meter's current window (the last count Redis reported). */
  baseline(meterIndex: number, plan: MeterPlan): number;
}

const WHOLE: LocalAllowance = { share: 1, baseline: () => 0 };

export interface LocalBackendOptions {
  readonly meters: readonly Meter[];
  readonly rates: readonly RateLog[];
  readonly ledger: Ledger;
  readonly now: () => number;
}

export class LocalBackend implements AdmissionBackend {
  readonly mode = 'local' as const;
  readonly #options: LocalBackendOptions;

  constructor(options: LocalBackendOptions) {
    this.#options = options;
  }

  async admit(request: AdmissionRequest, allowance: LocalAllowance = WHOLE): Promise<Admission> {
    const { meters, rates, ledger, now: clock } = this.#options;
    let now = clock();
    let plans = meters.map((meter) => meter.planAt(now));
    let unread = ledger.unread(plans.flatMap((plan) => plan.keys));
    while (unread.length > 0) {
      await ledger.load(unread);
      now = clock();
      plans = meters.map((meter) => meter.planAt(now));
      unread = ledger.unread(plans.flatMap((plan) => plan.keys));
    }

    // From here to the commit nothing awaits, so concurrent calls in this process see each other's counts.
    let slot = now;
    for (const log of rates) slot = Math.max(slot, log.earliestSlot(now, rateLimitFor(log, allowance.share)));
    if (slot - now > request.maxWaitMs) return { kind: 'rate-limited', waitMs: slot - now };

    const charges: Charge[] = [];
    for (const [index, meter] of meters.entries()) {
      const plan = plans[index] as MeterPlan;
      const amount = amountFor(meter, request.costMicros);
      const used = ledger.sum(plan.keys);
      const budget = (limit: number): number =>
        Math.floor(allowance.share * Math.max(0, limit - allowance.baseline(index, plan)));
      if (used + amount > budget(meter.limitFor(request.highValue))) {
        const reserveOnly = !request.highValue && used + amount <= budget(meter.limitFor(true));
        return { kind: 'exhausted', meter, resetAtMs: plan.resetAtMs, reserveOnly };
      }
      charges.push({ key: plan.keys[0] as string, amount, ttlMs: plan.ttlMs });
    }
    for (const charge of charges) if (charge.amount > 0) ledger.add(charge.key, charge.amount, charge.ttlMs);
    for (const log of rates) log.book(slot);

    await ledger.persist(charges.map((charge) => charge.key));
    return { kind: 'admitted', delayMs: slot - now, charges };
  }

  /** Books a call admitted elsewhere (by Redis) in the local rate logs, so a switch to local limits starts from the truth. */
  bookRate(atMs: number): void {
    for (const log of this.#options.rates) log.book(atMs);
  }

  sharePause(_pause: PauseRequest): Promise<void> {
    return Promise.resolve();
  }

  async read(): Promise<BackendReading> {
    const { meters, ledger, now: clock } = this.#options;
    const plans = meters.map((meter) => meter.planAt(clock()));
    await ledger.load(ledger.unread(plans.flatMap((plan) => plan.keys)));
    return {
      meters: meters.map((meter, index) => {
        const plan = plans[index] as MeterPlan;
        return { meter, used: ledger.sum(plan.keys), resetAtMs: plan.resetAtMs };
      }),
    };
  }

  ready(_timeoutMs: number): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return this.#options.ledger.flush();
  }
}

function rateLimitFor(log: RateLog, share: number): number {
  // At least one call per window, so a small share never silences a provider completely.
  return share >= 1 ? log.limit : Math.max(1, Math.floor(share * log.limit));
}
