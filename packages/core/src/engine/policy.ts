import { DECISIONS } from '../contracts.js';
import type { Decision, ResolvedPolicy, RoutePolicy } from '../contracts.js';
import { ConfigurationError } from '../errors.js';

export const DEFAULT_BUDGET_MS = 100;
const MAX_BUDGET_MS = 60_000;

/**
 * Merges route options over the engine's defaults and checks them against the
 * registered providers. Throws one ConfigurationError listing every problem.
 */
export function resolvePolicy(
  route: RoutePolicy | undefined,
  defaults: RoutePolicy | undefined,
  registered: readonly string[],
): ResolvedPolicy {
  const merged: RoutePolicy = { ...defaults, ...route };
  const issues: string[] = [];
  const names = (key: 'providers' | 'require', fallback: readonly string[]): readonly string[] => {
    const value = merged[key];
    if (value === undefined) return fallback;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      issues.push(`policy.${key}: expected an array of provider names, got ${JSON.stringify(value)}`);
      return fallback;
    }
    for (const name of value) {
      if (!registered.includes(name)) {
        issues.push(`policy.${key}: unknown provider "${name}" (registered: ${registered.join(', ') || 'none'})`);
      }
    }
    return value.filter((name) => registered.includes(name));
  };
  const providers = names('providers', registered);
  const require = names('require', []);
  for (const name of require) {
    if (!providers.includes(name)) issues.push(`policy.require: "${name}" is required but not in policy.providers`);
  }
  const budgetMs = merged.budgetMs ?? DEFAULT_BUDGET_MS;
  if (typeof budgetMs !== 'number' || !Number.isFinite(budgetMs) || budgetMs <= 0 || budgetMs > MAX_BUDGET_MS) {
    issues.push(`policy.budgetMs: expected milliseconds in (0, ${MAX_BUDGET_MS}], got ${JSON.stringify(budgetMs)}`);
  }
  const onUnavailable: Decision = merged.onUnavailable ?? 'allow';
  if (!DECISIONS.includes(onUnavailable)) {
    issues.push(`policy.onUnavailable: expected one of ${DECISIONS.join(' | ')}, got ${JSON.stringify(onUnavailable)}`);
  }
  for (const key of ['acceptStale', 'enforce', 'highValue'] as const) {
    const value = merged[key];
    if (value !== undefined && typeof value !== 'boolean') {
      issues.push(`policy.${key}: expected true or false, got ${JSON.stringify(value)}`);
    }
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  return {
    providers,
    require,
    budgetMs,
    onUnavailable,
    acceptStale: merged.acceptStale ?? true,
    enforce: merged.enforce ?? false,
    highValue: merged.highValue ?? false,
  };
}
