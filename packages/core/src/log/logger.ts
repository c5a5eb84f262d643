import { createLogger as createWinston, format, transports } from 'winston';
import { redact } from './redact.js';

/** Any logger with these four methods works: winston, pino, console, your own. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * The default logger: winston writing one JSON object per line to stderr, at `warn`
 * unless FORMSECURITY_LOG_LEVEL says otherwise.
 *
 * Levels: `error` — FormSecurity itself cannot work (configuration, a bug);
 * `warn` — a provider or store changed state for the worse (breaker open, L2 down,
 * quota exhausted, insecure setting); `info` — recoveries and start-up facts;
 * `debug` — per-call detail. Nothing is logged per request at `info` or above.
 */
export function defaultLogger(level: LogLevel = readLevel()): Logger {
  if (level === 'silent') return silentLogger;
  return createWinston({
    level,
    format: format.combine(format.timestamp(), format.json()),
    defaultMeta: { component: 'formsecurity' },
    transports: [new transports.Console({ stderrLevels: [...LEVELS] })],
  });
}

function readLevel(): LogLevel {
  const value = process.env['FORMSECURITY_LOG_LEVEL'];
  return value !== undefined && ([...LEVELS, 'silent'] as string[]).includes(value) ? (value as LogLevel) : 'warn';
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Wraps any logger so that every message and field passes through `redact` first:
 * no secret, raw IP or e-mail reaches it, whatever the caller put in.
 *
 * @example
 * const log = redactingLogger(console);
 * log.warn('breaker open', { provider: 'abuseipdb', apiKey: 'k' }); // apiKey: '[redacted]'
 */
export function redactingLogger(target: Logger): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, meta?: Record<string, unknown>): void => {
      try {
        const safe = meta === undefined ? undefined : (redact(meta) as Record<string, unknown>);
        target[level](redact(message) as string, safe);
      } catch {
        // A failing logger must never fail a request.
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
