/**
 * The honeypot: a form field hidden from people (CSS, `aria-hidden`, `tabindex=-1`,
 * `autocomplete=off`) that form-filling bots fill in anyway. Local: never degrades.
 */
import { ConfigurationError } from '@formsecurity/core';
import type { Provider, ProviderResult } from '@formsecurity/core';

/** Options of {@link honeypot}. */
export interface HoneypotOptions {
  /** The hidden field's name, e.g. `website`. */
  readonly field: string;
  /** Provider name (default `honeypot`). */
  readonly name?: string;
  /** Score of a filled field (default 1). */
  readonly score?: number;
  /**
   * Score when the field is not in the submission at all (default 0). A bot posting
   * straight to the endpoint never saw the form; raise it if every real form has the field.
   */
  readonly missingScore?: number;
}

const OPTION = 'honeypot';

function validate(options: HoneypotOptions): void {
  const issues: string[] = [];
  if (typeof options.field !== 'string' || options.field.trim() === '') issues.push(`${OPTION}.field: expected the hidden field's name`);
  if (options.name !== undefined && options.name.trim() === '') issues.push(`${OPTION}.name: expected a non-empty string`);
  for (const key of ['score', 'missingScore'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) issues.push(`${OPTION}.${key}: expected a number from 0 to 1`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
}

/**
 * Creates the honeypot provider (`local: true`, facets `['fields']`). A field holding
 * anything but whitespace scores `score` (1) with a reason; an empty one 0; a missing one
 * `missingScore` (0). `data.honeypot` is `filled`, `empty` or `missing` — never the value.
 *
 * @example
 * // <input name="website" tabindex="-1" autocomplete="off" aria-hidden="true" style="position:absolute;left:-9999px">
 * const trap = honeypot({ field: 'website' });
 * trap.check({ fields: { website: 'http://spam.example' } }, { signal }); // { score: 1, ... }
 */
export function honeypot(options: HoneypotOptions): Provider {
  validate(options);
  const { field } = options;
  return {
    name: options.name ?? 'honeypot',
    version: '1',
    facets: ['fields'],
    local: true,
    defaults: { weight: 1 },
    // Synchronous: a local answer needs no promise, and the engine then needs no timer.
    check(subject): ProviderResult {
      const value = subject.fields?.[field];
      if (value === undefined) {
        const score = options.missingScore ?? 0;
        return { score, reasons: score > 0 ? [`honeypot field "${field}" is missing from the form`] : [], data: { honeypot: 'missing' } };
      }
      if (value.trim() === '') return { score: 0, reasons: [], data: { honeypot: 'empty' } };
      return { score: options.score ?? 1, reasons: [`honeypot field "${field}" was filled in`], data: { honeypot: 'filled' } };
    },
  };
}
