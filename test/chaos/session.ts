/**
 * One chaos session: a private Redis, every provider fake, an engine with three remote
 * providers and a local blocklist, and an Express app on 127.0.0.1 — under a paced load
 * while the fault schedule runs. Everything it starts, it stops; it hands back only
 * plain data, so that nothing it built stays reachable once it returns.
 */
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import express from 'express';
import { consecutiveFailures, createFormSecurity, engineInternals } from '@formsecurity/core';
import type { Logger, ProviderRegistration, SignalStatus, Verdict } from '@formsecurity/core';
import { formSecurity } from '@formsecurity/express';
import { abuseIpdb, cidrBlocklist, dnsbl, stopForumSpam } from '@formsecurity/providers';
import { startFakeProviders } from '@formsecurity/testing';
import { PrivateRedis } from '../support/private-redis.js';
import { benchAddress, seededRandom, zipf } from '../../bench/lib/zipf.js';
import type { BreakerConfig, TimedEvent } from './breaker-audit.js';
import { PHASES } from './faults.js';
import { runLoad } from './load.js';
import type { Answer } from './load.js';

export const BUDGET_MS = 100;
export const BREAKER: BreakerConfig & { readonly threshold: number } = { threshold: 5, initialMs: 1_000, maxMs: 2_000 };
export const REMOTE_PROVIDERS = ['stopforumspam', 'abuseipdb', 'dnsbl'] as const;

export interface SessionOptions {
  readonly seconds: number;
  /** Submissions per second. */
  readonly rate: number;
  /** Run the fault schedule (false: a healthy warm-up). */
  readonly faults: boolean;
}

/** The part of a verdict the assertions read; kept small so the report itself does not weigh on the heap figures. */
export interface VerdictSummary {
  readonly durationMs: number;
  readonly degraded: boolean;
  readonly signals: Readonly<Record<string, SignalStatus>>;
}

/** One submission as the client saw it. */
export interface Submission {
  /** 0 when no HTTP answer came. */
  readonly status: number;
  readonly latencyMs: number;
  /** When the answer came, in ms since the load started. */
  readonly atMs: number;
  /** Why there was no answer, or why it was not a verdict. */
  readonly error?: string;
  readonly verdict?: VerdictSummary;
}

/** What a session observed. */
export interface SessionReport {
  readonly submissions: readonly Submission[];
  readonly events: readonly TimedEvent[];
  /** Breaker states after the last phase, before closing. */
  readonly finalBreakers: Readonly<Record<string, string>>;
  readonly logLines: readonly string[];
  /** Secrets configured in the session, to look for in its output. */
  readonly secrets: readonly string[];
  readonly phases: readonly PhaseReport[];
}

/** A phase of the schedule, and how long the event loop was held up at worst while it lasted. */
export interface PhaseReport {
  readonly name: string;
  readonly startedAtMs: number;
  readonly maxLoopDelayMs: number;
}

/** Keeps every log line, as the JSON a log shipper would see. */
function recordingLogger(lines: string[]): Logger {
  const record = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...meta }));
  };
  return { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

function summarise(answer: Answer): Submission {
  const { status, latencyMs, atMs } = answer;
  if (status !== 200) return { status, latencyMs, atMs, error: answer.error ?? answer.body.slice(0, 200) };
  const verdict = JSON.parse(answer.body) as Verdict | null;
  if (verdict === null) return { status, latencyMs, atMs, error: 'no verdict' };
  const signals = Object.fromEntries(Object.entries(verdict.signals).map(([name, signal]) => [name, signal.status]));
  return { status, latencyMs, atMs, verdict: { durationMs: verdict.durationMs, degraded: verdict.degraded, signals } };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one session and releases everything it started, whatever happens.
 *
 * @example
 * const report = await runSession({ seconds: 30, rate: 150, faults: true });
 */
export async function runSession(options: SessionOptions): Promise<SessionReport> {
  const redis = await PrivateRedis.start();
  const fakes = await startFakeProviders();
  const logLines: string[] = [];
  const events: TimedEvent[] = [];
  // Each breaker gets its own strategy; no jitter, so every open period is predictable.
  // A hanging call is given up after 500 ms (not the default 3 s), so hang phases do not fill the bulkheads.
  const remote = (provider: ProviderRegistration['provider']): ProviderRegistration => ({
    provider,
    breaker: {
      strategy: consecutiveFailures({ threshold: BREAKER.threshold }),
      backoff: { initialMs: BREAKER.initialMs, multiplier: 2, maxMs: BREAKER.maxMs, jitter: 0 },
    },
    timeoutMs: 500,
  });
  const engine = createFormSecurity({
    redis: { url: redis.url },
    cache: { secret: 'chaos-cache-secret-0123456789abcdef', namespace: 'fs-chaos' },
    providers: [
      remote(stopForumSpam(fakes.options.stopForumSpam)),
      remote(abuseIpdb({ key: fakes.abuseIpdb.key, baseUrl: fakes.abuseIpdb.url })),
      remote(dnsbl(fakes.options.dnsbl)),
      cidrBlocklist({ name: 'blocklist', ranges: ['198.51.100.0/24'] }),
    ],
    policy: { budgetMs: BUDGET_MS },
    logger: recordingLogger(logLines),
  });
  engine.on('*', (event) => {
    events.push({ at: Date.now(), event });
  });

  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/contact', formSecurity({ engine, subject: { trustProxy: 1 } }), (req, res) => {
    res.json(req.formSecurity ?? null);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const pick = zipf(3_000, 1.1, seededRandom(options.seconds));
  const submission = (n: number) => {
    const rank = pick();
    const email = n % 3 === 0 ? `&email=visitor${rank}%40example.org` : '';
    return { form: `name=Visitor&message=Hello+number+${n}${email}`, forwardedFor: benchAddress(rank) };
  };

  const phases: PhaseReport[] = [];
  const LOOP_SAMPLE_MS = 10;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  const started = performance.now();
  const schedule = async (): Promise<void> => {
    const list = options.faults ? PHASES : [{ name: 'healthy', enter: () => undefined }];
    const phaseMs = (options.seconds * 1000) / list.length;
    for (const phase of list) {
      const startedAtMs = Math.round(performance.now() - started);
      loopDelay.reset();
      await phase.enter({ fakes, redis });
      await sleep(phaseMs);
      // The histogram holds whole intervals between its timer's ticks: the delay is what exceeds the interval.
      phases.push({ name: phase.name, startedAtMs, maxLoopDelayMs: Math.max(0, loopDelay.max / 1e6 - LOOP_SAMPLE_MS) });
    }
    loopDelay.disable();
  };

  let finalBreakers: Record<string, string> = {};
  try {
    const scheduled = schedule();
    const answers = await runLoad({ url, path: '/contact', rate: options.rate, workers: 6, until: scheduled, submission });
    // A phase that failed to set up (Redis would not restart, say) fails the session.
    await scheduled;
    finalBreakers = Object.fromEntries([...(engineInternals(engine)?.breakers ?? [])].map(([name, b]) => [name, b.state.kind]));
    return { submissions: answers.map(summarise), events, finalBreakers, logLines, secrets: [fakes.abuseIpdb.key], phases };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.close();
    await fakes.close();
    await redis.kill();
  }
}
