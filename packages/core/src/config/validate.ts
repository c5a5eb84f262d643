/**
 * Start-up validation of the engine's configuration: every wrong key in one
 * ConfigurationError, and warnings for settings that work but deserve a look
 * (unknown keys, unencrypted connections).
 */
import type { Provider } from '../contracts.js';
import type { FormSecurityConfig } from '../engine/create.js';
import type { ProviderRegistration } from '../engine/dependencies.js';
import { ConfigurationError } from '../errors.js';
import { defaultLogger, redactingLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import { byKey, partitionIssues } from './issues.js';
import { applyPrivacy } from './privacy.js';
import type { PrivacyOptions } from './privacy.js';
import { CONFIG_DEFAULTS, engineConfigSchema, gateOptionsSchema } from './schema.js';
import { isSecret } from './secret.js';
import { transportWarnings } from './transport.js';

/** What a configuration check found. */
export interface ConfigCheck {
  /** One message per wrong key: `<path>: expected <what>, got <value>`. */
  readonly errors: readonly string[];
  /** Unknown keys and unencrypted connections: legal, but worth a line in the log. */
  readonly warnings: readonly string[];
}

type Entry = Provider | ProviderRegistration;

const providerOf = (entry: Entry): Provider => ('provider' in entry ? entry.provider : entry);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isUnit = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= 1;
const isNameList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** The name of a `providers` entry, when it has a usable one. */
function nameOf(entry: unknown): string | undefined {
  if (!isObject(entry)) return undefined;
  const provider = 'provider' in entry ? entry['provider'] : entry;
  const name = isObject(provider) ? provider['name'] : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Rules that span keys: unique names, ordered thresholds, policies naming registered
 * providers. Each rule runs on whatever part is well-formed, so its message comes with
 * the schema's, all at once.
 */
function crossKeyErrors(config: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const entries = Array.isArray(config['providers']) ? (config['providers'] as unknown[]) : [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const name = nameOf(entry);
    if (name === undefined) return;
    if (seen.has(name)) errors.push(`providers[${index}].name: "${name}" is registered twice`);
    seen.add(name);
  });

  const given = isObject(config['thresholds']) ? config['thresholds'] : {};
  const thresholds = { ...CONFIG_DEFAULTS.thresholds, ...given };
  const { review, challenge, block } = thresholds;
  if (isUnit(review) && isUnit(challenge) && isUnit(block) && !(review <= challenge && challenge <= block)) {
    errors.push(`thresholds: expected 0 <= review <= challenge <= block <= 1, got ${JSON.stringify(thresholds)}`);
  }

  const policy = isObject(config['policy']) ? config['policy'] : {};
  const registered = [...seen];
  for (const key of ['providers', 'require'] as const) {
    const listed = policy[key];
    if (!isNameList(listed)) continue;
    for (const name of listed) {
      if (!seen.has(name)) errors.push(`policy.${key}: unknown provider "${name}" (registered: ${registered.join(', ') || 'none'})`);
    }
  }
  const providers = policy['providers'];
  const required = policy['require'];
  if (isNameList(providers) && isNameList(required)) {
    for (const name of required) {
      if (!providers.includes(name)) errors.push(`policy.require: "${name}" is required but not in policy.providers`);
    }
  }
  return errors;
}

function redisUrlsOf(config: FormSecurityConfig): string[] {
  const urls: string[] = [];
  if (config.redis !== undefined) urls.push(config.redis.url);
  const l2 = config.cache === false ? undefined : config.cache?.l2;
  if (typeof l2 === 'object' && l2 !== null && 'redis' in l2) urls.push(l2.redis.url);
  return urls;
}

/**
 * Checks a configuration without throwing: every error and warning, at once.
 *
 * @example
 * const { errors, warnings } = checkConfig({ policy: { budgetMs: -1 } });
 * // errors: ['policy.budgetMs: expected milliseconds in (0, 60000], got -1']
 */
export function checkConfig(config: unknown): ConfigCheck {
  const parsed = engineConfigSchema.safeParse(config, { reportInput: true });
  const { errors, unknownKeys } = parsed.success ? { errors: [], unknownKeys: [] } : partitionIssues(parsed.error.issues);
  const warnings = unknownKeys.map((message) => `${message} (ignored; check its spelling)`);
  if (isObject(config)) errors.push(...crossKeyErrors(config));
  // Sorted by key, so the list reads like the configuration does.
  errors.sort(byKey);
  if (errors.length > 0) return { errors, warnings };
  const valid = config as FormSecurityConfig;
  const providers = ((valid.providers ?? []) as readonly Entry[]).map(providerOf);
  return { errors, warnings: [...warnings, ...transportWarnings(providers, redisUrlsOf(valid))] };
}

/**
 * Throws one ConfigurationError naming every wrong key; returns the configuration typed.
 *
 * @example
 * const config = validateConfig(JSON.parse(text)); // throws on `{ "policy": { "budgetMs": "soon" } }`
 */
export function validateConfig(config: unknown): FormSecurityConfig {
  const { errors } = checkConfig(config);
  if (errors.length > 0) throw new ConfigurationError(errors);
  return config as FormSecurityConfig;
}

/**
 * Checks a gate's (an adapter's) options the same way: route policy keys, `subject`,
 * `methods`, and an inline engine `config`. Throws one ConfigurationError for wrong
 * values; returns the warnings (unknown keys inside `subject` or `config`) to log.
 *
 * @example
 * validateGateOptions({ subject: { trustProxy: 'yes' } }); // throws: subject.trustProxy: expected false, …
 */
export function validateGateOptions(options: unknown): readonly string[] {
  const parsed = gateOptionsSchema.safeParse(options, { reportInput: true });
  if (parsed.success) return [];
  const { errors, unknownKeys } = partitionIssues(parsed.error.issues);
  if (errors.length > 0) throw new ConfigurationError(errors);
  return unknownKeys.map((message) => `${message} (ignored; check its spelling)`);
}

/** The engine configuration as `createFormSecurity` uses it, with the engine's logger. */
export interface PreparedConfig {
  readonly config: FormSecurityConfig;
  readonly logger: Logger;
}

/** Turns a Secret cache key into the bytes the cache hashes with; the cache keeps only a KeyObject. */
function revealCacheSecret(config: FormSecurityConfig): FormSecurityConfig {
  const cache = config.cache;
  if (cache === undefined || cache === false) return config;
  const secret: unknown = cache.secret;
  if (!isSecret(secret)) return config;
  return { ...config, cache: { ...cache, secret: secret.reveal() } };
}

function withPrivacy(config: FormSecurityConfig, privacy: PrivacyOptions | undefined): FormSecurityConfig {
  if (privacy === undefined || config.providers === undefined) return config;
  const providers = (config.providers as readonly Entry[]).map((entry) =>
    'provider' in entry ? { ...entry, provider: applyPrivacy(entry.provider, privacy) } : applyPrivacy(entry, privacy),
  );
  return { ...config, providers };
}

/**
 * What `createFormSecurity` calls first: validates (throwing one ConfigurationError
 * with every issue), builds the redacting logger, logs the warnings, and applies the
 * engine-wide privacy options to remote providers.
 *
 * @example
 * const { config, logger } = prepareConfig(userConfig);
 */
export function prepareConfig(config: FormSecurityConfig): PreparedConfig {
  const { errors, warnings } = checkConfig(config);
  if (errors.length > 0) throw new ConfigurationError(errors);
  const logger = redactingLogger(config.logger ?? defaultLogger());
  for (const warning of warnings) logger.warn(warning);
  const privacy = (config as { readonly privacy?: PrivacyOptions }).privacy;
  return { config: withPrivacy(revealCacheSecret(config), privacy), logger };
}
