/**
 * One health monitor per engine: the status page, the health endpoint and the metrics
 * of every adapter share it, so each verdict is counted once.
 */
import { engineInternals } from '../engine/create.js';
import type { EngineInternals, FormSecurity } from '../engine/create.js';
import { ConfigurationError } from '../errors.js';
import { HealthMonitor } from './monitor.js';
import type { HealthMonitorOptions } from './monitor.js';

const monitors = new WeakMap<EngineInternals, HealthMonitor>();

function internalsOf(engine: FormSecurity): EngineInternals {
  const internals = engineInternals(engine);
  if (internals === undefined) throw new ConfigurationError(['engine: expected an engine built by createFormSecurity']);
  return internals;
}

/**
 * Starts watching an engine with these options. Call it once, at set-up, before the
 * status page or metrics are mounted (they then use this monitor); a second monitor for
 * the same engine is a ConfigurationError.
 *
 * @example
 * const engine = createFormSecurity({ providers });
 * const monitor = createHealthMonitor(engine, { webhook: { url: process.env.ALERT_URL! } });
 * monitor.on('breaker.open', (event) => console.warn(event.provider, 'is failing'));
 */
export function createHealthMonitor(engine: FormSecurity, options: HealthMonitorOptions = {}): HealthMonitor {
  const internals = internalsOf(engine);
  if (monitors.has(internals)) {
    throw new ConfigurationError(['health: this engine already has a monitor; get it with healthMonitor(engine)']);
  }
  // Closing forgets it, so a new monitor can take over.
  const monitor = new HealthMonitor(internals, options, () => monitors.delete(internals));
  monitors.set(internals, monitor);
  return monitor;
}

/**
 * The engine's monitor, started with default options on first use.
 *
 * @example
 * const health = await healthMonitor(engine).snapshot();
 */
export function healthMonitor(engine: FormSecurity): HealthMonitor {
  return monitors.get(internalsOf(engine)) ?? createHealthMonitor(engine);
}

/** The engine's monitor if one was started, without starting one (used when the engine closes). */
export function startedHealthMonitor(engine: FormSecurity): HealthMonitor | undefined {
  const internals = engineInternals(engine);
  return internals === undefined ? undefined : monitors.get(internals);
}
