/**
 * Admission shared by every instance through Redis: one atomic script per call checks
 * the pause, books a rate slot and increments the meters. While Redis cannot be reached
 * the local back-end stands in with a share of what was left, and what it spends is
 * added to the shared counts once Redis answers again.
 */

import {
  amountFor,
  type Admission,
  type AdmissionBackend,
  type AdmissionRequest,
  type BackendReading,
  type Charge,
  type QuotaMode,
} from './admission.js';
import type { LocalBackend } from './local-backend.js';
import type { Meter, MeterPlan } from './meters.js';
import { isPauseReason, type PauseRequest } from './pause.js';
import type { RateLog } from './rate-log.js';
import type { RedisLink } from './redis-link.js';
import { ADMIT, PAUSE, READ, RECONCILE } from './scripts.js';

export interface SharedBackendOptions {
  readonly link: RedisLink;
  readonly meters: readonly Meter[];
  readonly rates: readonly RateLog[];
  readonly fallback: LocalBackend;
  /** Prefix of this provider's keys, ending in `{provider}:`. */
  readonly keyPrefix: string;
  readonly fallbackShare: number;
  /** With no meter or rate to check, a "not paused" answer is trusted this long. */
  readonly pauseCheckMs: number;
  readonly now: () => number;
  readonly onModeChange: (mode: QuotaMode, cause?: unknown) => void;
}

interface KnownUsage {
  readonly key: string;
  readonly used: number;
}

interface PendingCharge {
  amount: number;
  ttlMs: number;
}

export class SharedBackend implements AdmissionBackend {
  readonly #options: SharedBackendOptions;
  readonly #pauseKey: string;
  readonly #rateKeys: readonly string[];
  /** The last usage Redis reported per meter, for the stand-in's allowance. */
  readonly #known = new Map<number, KnownUsage>();
  /** Spent while Redis was away, not yet added to the shared counts. */
  readonly #pending = new Map<string, PendingCharge>();
  #pendingPause: { untilMs: number; pause: PauseRequest } | undefined;
  #lastPauseCheckMs = Number.NEGATIVE_INFINITY;
  #degraded = false;

  constructor(options: SharedBackendOptions) {
    this.#options = options;
    this.#pauseKey = `${options.keyPrefix}pause`;
    this.#rateKeys = options.rates.map((log) => `${options.keyPrefix}rate:${log.limit}/${log.windowMs}ms`);
  }

  get mode(): QuotaMode {
    return this.#degraded ? 'fallback' : 'shared';
  }

  async admit(request: AdmissionRequest): Promise<Admission> {
    const { link } = this.#options;
    await link.settle(request.maxWaitMs);
    if (link.usable) {
      try {
        return await this.#admitShared(request);
      } catch (error) {
        this.#setDegraded(true, error);
      }
    } else {
      this.#setDegraded(true);
    }
    return this.#admitLocally(request);
  }

  async sharePause(pause: PauseRequest): Promise<void> {
    try {
      if (!this.#options.link.usable) throw new Error('redis is not connected');
      await this.#options.link.run(PAUSE, [this.#pauseKey], [pause.ms, pause.reason]);
    } catch {
      // Told to the others once Redis is back, if the pause still runs then.
      this.#pendingPause = { untilMs: Date.now() + pause.ms, pause };
    }
  }

  async read(): Promise<BackendReading> {
    const { link, meters, now } = this.#options;
    const plans = meters.map((meter) => meter.planAt(now()));
    if (link.usable) {
      try {
        const keys = [this.#pauseKey, ...plans.flatMap((plan) => this.#absolute(plan.keys))];
        const reply = asArray(await link.run(READ, keys, [meters.length, ...plans.map((plan) => plan.keys.length)]));
        const pauseMs = toNumber(reply[0]);
        const reason = reply[1];
        return {
          meters: meters.map((meter, index) => {
            const plan = plans[index] as MeterPlan;
            const used = toNumber(reply[2 + index]);
            this.#known.set(index, { key: plan.keys[0] as string, used });
            return { meter, used, resetAtMs: plan.resetAtMs };
          }),
          ...(pauseMs > 0 && isPauseReason(reason) ? { pause: { ms: pauseMs, reason } } : {}),
        };
      } catch {
        // Fall through to what this process knows.
      }
    }
    const local = await this.#options.fallback.read();
    return {
      meters: local.meters.map((reading, index) => ({
        ...reading,
        used: reading.used + this.#baseline(index, plans[index] as MeterPlan),
      })),
    };
  }

  ready(timeoutMs: number): Promise<boolean> {
    return this.#options.link.whenConnected(timeoutMs);
  }

  async close(): Promise<void> {
    this.#options.link.close();
    await this.#options.fallback.close();
  }

  async #admitShared(request: AdmissionRequest): Promise<Admission> {
    const { link, meters, rates, now } = this.#options;
    if (meters.length === 0 && rates.length === 0 && Date.now() - this.#lastPauseCheckMs < this.#options.pauseCheckMs) {
      return { kind: 'admitted', delayMs: 0, charges: [] };
    }
    await this.#reconcile();

    const plans = meters.map((meter) => meter.planAt(now()));
    const amounts = meters.map((meter) => amountFor(meter, request.costMicros));
    const keys = [this.#pauseKey, ...this.#rateKeys, ...plans.flatMap((plan) => this.#absolute(plan.keys))];
    const args: (string | number)[] = [Math.max(0, Math.floor(request.maxWaitMs)), rates.length];
    for (const log of rates) args.push(log.limit, log.windowMs);
    args.push(meters.length);
    for (const [index, meter] of meters.entries()) {
      const plan = plans[index] as MeterPlan;
      const limit = meter.limitFor(request.highValue);
      args.push(plan.keys.length, Number.isFinite(limit) ? limit : -1, amounts[index] ?? 0, Math.ceil(plan.ttlMs));
    }

    const reply = asArray(await link.run(ADMIT, keys, args));
    this.#lastPauseCheckMs = Date.now();
    this.#setDegraded(false);

    const verdict = reply[0];
    if (verdict === 'paused') {
      const reason = reply[2];
      return { kind: 'paused', ms: toNumber(reply[1]), reason: isPauseReason(reason) ? reason : 'rate-limited' };
    }
    if (verdict === 'rate') return { kind: 'rate-limited', waitMs: toNumber(reply[1]) };
    if (verdict === 'meter') {
      const index = toNumber(reply[1]) - 1;
      const meter = meters[index] as Meter;
      const plan = plans[index] as MeterPlan;
      const used = toNumber(reply[2]);
      this.#known.set(index, { key: plan.keys[0] as string, used });
      const reserveOnly = !request.highValue && used + (amounts[index] ?? 0) <= meter.limitFor(true);
      return { kind: 'exhausted', meter, resetAtMs: plan.resetAtMs, reserveOnly };
    }
    if (verdict !== 'ok') throw new Error('unexpected reply from the admission script');

    const delayMs = toNumber(reply[1]);
    const charges: Charge[] = [];
    for (const [index, plan] of plans.entries()) {
      this.#known.set(index, { key: plan.keys[0] as string, used: toNumber(reply[2 + index]) });
      charges.push({ key: plan.keys[0] as string, amount: amounts[index] ?? 0, ttlMs: plan.ttlMs });
    }
    this.#options.fallback.bookRate(now() + delayMs);
    return { kind: 'admitted', delayMs, charges };
  }

  async #admitLocally(request: AdmissionRequest): Promise<Admission> {
    const admission = await this.#options.fallback.admit(request, {
      share: this.#options.fallbackShare,
      baseline: (index, plan) => this.#baseline(index, plan),
    });
    if (admission.kind === 'admitted') {
      for (const charge of admission.charges) {
        if (charge.amount === 0) continue;
        const key = this.#absolute([charge.key])[0] as string;
        const pending = this.#pending.get(key) ?? { amount: 0, ttlMs: 0 };
        pending.amount += charge.amount;
        pending.ttlMs = Math.max(pending.ttlMs, charge.ttlMs);
        this.#pending.set(key, pending);
      }
    }
    return admission;
  }

  /** Adds the stand-in's spending and any unshared pause to Redis; throws when Redis fails. */
  async #reconcile(): Promise<void> {
    if (this.#pending.size > 0) {
      const batch = [...this.#pending.entries()];
      const args = batch.flatMap(([, charge]) => [charge.amount, Math.ceil(charge.ttlMs)]);
      await this.#options.link.run(RECONCILE, batch.map(([key]) => key), args);
      for (const [key, charge] of batch) {
        const pending = this.#pending.get(key);
        if (pending === undefined) continue;
        pending.amount -= charge.amount;
        if (pending.amount <= 0) this.#pending.delete(key);
      }
    }
    const pendingPause = this.#pendingPause;
    if (pendingPause !== undefined) {
      this.#pendingPause = undefined;
      const ms = pendingPause.untilMs - Date.now();
      if (ms > 0) await this.sharePause({ ms, reason: pendingPause.pause.reason });
    }
  }

  #baseline(index: number, plan: MeterPlan): number {
    const known = this.#known.get(index);
    // A count from an earlier window says nothing about this one.
    return known !== undefined && known.key === plan.keys[0] ? known.used : 0;
  }

  #absolute(keys: readonly string[]): string[] {
    return keys.map((key) => this.#options.keyPrefix + key);
  }

  #setDegraded(degraded: boolean, cause?: unknown): void {
    if (this.#degraded === degraded) return;
    this.#degraded = degraded;
    this.#options.onModeChange(degraded ? 'fallback' : 'shared', cause);
  }
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new Error('unexpected reply from a quota script');
  return reply;
}

function toNumber(value: unknown): number {
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : 0;
}
