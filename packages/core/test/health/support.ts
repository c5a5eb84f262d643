import { ProviderResponseError } from '../../src/index.js';
import type { Logger, Provider, ProviderResult } from '../../src/index.js';

/** A clock tests move by hand; the engine and the monitor share it. */
export function manualClock(start = Date.UTC(2025, 5, 2, 10, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export type Behaviour = 'ok' | 'fail' | 'hang';

/**
 * A remote provider keyed by e-mail whose next answers the test decides: `ok` (score 0),
 * `fail` (an HTTP 500 whose message quotes an IP), `hang` (answers only the deadline's
 * abort). `latencyMs` moves the shared clock forward before answering, so latencies are exact.
 */
export function scriptedProvider(name: string, clock: { advance(ms: number): void }) {
  const state = { behaviour: 'ok' as Behaviour, latencyMs: 5, calls: 0 };
  const provider: Provider = {
    name,
    facets: ['email'],
    async check(_subject, { signal }) {
      state.calls++;
      clock.advance(state.latencyMs);
      if (state.behaviour === 'hang') {
        return new Promise<ProviderResult>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      }
      if (state.behaviour === 'fail') throw new ProviderResponseError('http', 'upstream 203.0.113.9 answered 500', { status: 500 });
      return { score: 0, reasons: [] };
    },
  };
  return { provider, state };
}

/** A logger that keeps every line. */
export function recordingLogger() {
  const lines: { level: keyof Logger; message: string; meta: Record<string, unknown> | undefined }[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, meta?: Record<string, unknown>): void => {
      lines.push({ level, message, meta });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

let counter = 0;
/** A distinct subject per call, so no answer comes from the cache unless a test wants it. */
export function freshSubject(): { ip: string; email: string } {
  counter++;
  return { ip: `198.51.100.${counter % 250}`, email: `user${counter}@example.org` };
}
