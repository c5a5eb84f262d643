/**
 * Validation for resilience options. Every problem is collected so a
 * `ConfigurationError` names all wrong keys at once instead of one per restart.
 */

import { ConfigurationError } from '../errors.js';

/** Collects option problems under a common prefix such as `circuitBreaker(ipapi).halfOpen`. */
export class OptionIssues {
  private readonly issues: string[] = [];

  constructor(private readonly prefix: string) {}

  integer(key: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
      this.issues.push(`${this.prefix}.${key}: expected an integer ${range}, got ${String(value)}`);
    }
  }

  /** A finite number within [min, max]. */
  number(key: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
    if (!Number.isFinite(value) || value < min || value > max) {
      const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `${min}..${max}`;
      this.issues.push(`${this.prefix}.${key}: expected a number ${range}, got ${String(value)}`);
    }
  }

  check(condition: boolean, message: string): void {
    if (!condition) this.issues.push(`${this.prefix}.${message}`);
  }

  /** Throws one `ConfigurationError` listing every collected problem, if there were any. */
  throwIfAny(): void {
    if (this.issues.length > 0) throw new ConfigurationError(this.issues);
  }
}
