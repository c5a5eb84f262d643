/**
 * A logger that keeps every line it is given, as the JSON a log shipper would see, so
 * a test can search everything FormSecurity logged.
 */
import type { Logger } from '@formsecurity/core';

export interface CapturedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly meta: Record<string, unknown> | undefined;
}

export interface CapturingLogger extends Logger {
  readonly lines: CapturedLine[];
  /** Every line as JSON text. */
  text(): string;
}

export function capturingLogger(): CapturingLogger {
  const lines: CapturedLine[] = [];
  const at =
    (level: CapturedLine['level']) =>
    (message: string, meta?: Record<string, unknown>): void => {
      lines.push({ level, message, meta });
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => lines.map((line) => JSON.stringify(line)).join('\n'),
  };
}
