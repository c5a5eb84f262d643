/**
 * Sends each alert as JSON to a URL (a chat webhook, an incident tool). A failing or
 * slow receiver is logged and forgotten: it never throws, never waits past its timeout
 * and never holds more than a few deliveries at once.
 */
import { ConfigurationError } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import { describeEvent } from './events.js';
import type { HealthEvent } from './events.js';

export interface WebhookOptions {
  /** Where to POST; an http(s) URL. Only its host is ever logged, since such URLs often hold a key. */
  readonly url: string;
  /** Longest one delivery may take (default 3 000 ms). */
  readonly timeoutMs?: number;
  /** Extra request headers, e.g. `authorization`; never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Deliveries under way at once; alerts beyond are dropped and counted (default 8). */
  readonly maxInFlight?: number;
  /** Where failed deliveries are reported (default: nowhere). */
  readonly logger?: Logger;
}

/** A health listener that delivers to a webhook, with delivery counts. */
export interface WebhookSink {
  (event: HealthEvent): void;
  readonly delivered: number;
  readonly failed: number;
  readonly dropped: number;
  /** Resolves when no delivery is under way (for tests and shutdown). */
  idle(): Promise<void>;
}

function checkedUrl(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigurationError(['health.webhook.url: expected an http:// or https:// URL']);
  }
  return parsed;
}

/**
 * Builds the sink; subscribe it to a monitor, or pass `webhook` to the monitor's options.
 * The body is `{ text, event }`: `text` is one human line (what Slack and Mattermost
 * show), `event` the alert as subscribers receive it.
 *
 * @example
 * const monitor = healthMonitor(engine);
 * monitor.on('*', webhookSink({ url: process.env.ALERT_WEBHOOK_URL!, timeoutMs: 2_000 }));
 */
export function webhookSink(options: WebhookOptions): WebhookSink {
  const url = checkedUrl(options.url);
  const timeoutMs = options.timeoutMs ?? 3_000;
  const maxInFlight = options.maxInFlight ?? 8;
  if (!(timeoutMs > 0)) throw new ConfigurationError([`health.webhook.timeoutMs: expected a number > 0, got ${timeoutMs}`]);
  if (!(Number.isInteger(maxInFlight) && maxInFlight > 0)) {
    throw new ConfigurationError([`health.webhook.maxInFlight: expected an integer > 0, got ${maxInFlight}`]);
  }
  const logger = options.logger ?? silentLogger;
  const inFlight = new Set<Promise<void>>();
  const counts = { delivered: 0, failed: 0, dropped: 0 };

  async function deliver(event: HealthEvent): Promise<void> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `FormSecurity: ${describeEvent(event)}`, event }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        counts.delivered++;
        return;
      }
      counts.failed++;
      logger.warn('health webhook refused an alert', { host: url.host, status: response.status, event: event.type });
    } catch (error) {
      counts.failed++;
      const reason = error instanceof Error ? error.name : typeof error;
      logger.warn('health webhook delivery failed', { host: url.host, error: reason, event: event.type });
    }
  }

  const sink = (event: HealthEvent): void => {
    if (inFlight.size >= maxInFlight) {
      counts.dropped++;
      logger.debug('health webhook busy: alert dropped', { host: url.host, event: event.type });
      return;
    }
    const delivery = deliver(event).finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
  };
  return Object.defineProperties(sink, {
    delivered: { get: () => counts.delivered },
    failed: { get: () => counts.failed },
    dropped: { get: () => counts.dropped },
    idle: { value: async () => { while (inFlight.size > 0) await Promise.allSettled([...inFlight]); } },
  }) as WebhookSink;
}
