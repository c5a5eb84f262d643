/**
 * Serialisable settings (from a JSON file, a function or the environment) turned into
 * the pieces an application passes on: engine options, subject options, provider keys.
 */
import type { RoutePolicy } from '../contracts.js';
import type { Thresholds } from '../engine/aggregate.js';
import type { LogLevel } from '../log/logger.js';
import type { SubjectOptions } from '../subject/extract.js';
import type { TieredCacheOptions } from '../cache/index.js';
import { byKey, partitionIssues } from './issues.js';
import type { PrivacyOptions } from './privacy.js';
import { settingsSchema } from './schema.js';
import type { Settings } from './schema.js';
import { isSecret, toSecret } from './secret.js';
import type { Secret, SecretInput } from './secret.js';

/** The cache options a file or the environment can set; the HMAC key arrives as a Secret (or bytes, from a function). */
export type CacheSettings = Partial<Omit<TieredCacheOptions, 'secret' | 'now' | 'defaults' | 'l2'>> & {
  readonly secret?: Secret | Uint8Array;
  readonly l2?: false | { readonly memory: { readonly maxEntries?: number } } | { readonly redis: { readonly url: string } } | { readonly sqlite: { readonly path: string } };
  readonly defaults?: { readonly ttlMs?: number; readonly negativeTtlMs?: number; readonly graceMs?: number; readonly staleWhileRevalidateMs?: number };
};

/** The engine options that are data; spread them into `createFormSecurity` next to `providers`. */
export interface EngineSettings {
  readonly redis?: { readonly url: string };
  readonly cache?: false | CacheSettings;
  readonly policy?: RoutePolicy;
  readonly thresholds?: Partial<Thresholds>;
  readonly privacy?: PrivacyOptions;
}

/** Provider keys, each a Secret; pass them to the provider factories. */
export interface ProviderKeys {
  readonly abuseIpdb?: Secret;
  readonly akismet?: Secret;
  /** The OpenAI (or compatible) moderation key. */
  readonly moderation?: Secret;
  readonly ipQualityScore?: Secret;
  /** An ip-api pro key. */
  readonly ipApi?: Secret;
  readonly turnstile?: Secret;
  readonly hcaptcha?: Secret;
  readonly spamhausDqs?: Secret;
  readonly maxmind?: { readonly accountId: string; readonly licenseKey: Secret };
}

/**
 * Configuration read from a file, a function or the environment, in the pieces an
 * application hands on.
 *
 * @example
 * const { engine, subject, keys } = await loadConfig('./formsecurity.json');
 * const formSecurityEngine = createFormSecurity({ ...engine, providers: [abuseIpdb({ key: keys.abuseIpdb! })] });
 * app.use(formSecurity({ engine: formSecurityEngine, subject }));
 */
export interface LoadedConfig {
  readonly engine: EngineSettings;
  readonly subject: SubjectOptions;
  readonly keys: ProviderKeys;
  /** The level for `defaultLogger(level)`, when one was configured. */
  readonly logLevel?: LogLevel;
}

/** Validation of raw settings; `errors` name each wrong key (unknown keys included: a file is all ours). */
export function settingsIssues(raw: unknown, source: string): { settings?: Settings; errors: string[] } {
  const parsed = settingsSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) return { settings: parsed.data, errors: [] };
  const { errors, unknownKeys } = partitionIssues(parsed.error.issues);
  return { errors: [...errors, ...unknownKeys].sort(byKey).map((message) => `${source}: ${message}`) };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !isSecret(value) && !(value instanceof Uint8Array);

/** `over` wins key by key; lists and secrets are replaced whole. */
export function mergeSettings(base: Settings, over: Settings): Settings {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (!isPlainObject(a) || !isPlainObject(b)) return b;
    const out: Record<string, unknown> = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = merge(a[key], value);
    return out;
  };
  return merge(base, over) as Settings;
}

function keysOf(keys: Settings['keys'], labelOf: (key: string) => string): ProviderKeys {
  if (keys === undefined) return {};
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(keys)) {
    if (value === undefined) continue;
    if (name === 'maxmind') {
      const { accountId, licenseKey } = value as { accountId: string | number; licenseKey: SecretInput };
      out[name] = { accountId: String(accountId), licenseKey: toSecret(licenseKey, labelOf('maxmind.licenseKey')) };
    } else {
      out[name] = toSecret(value as SecretInput, labelOf(name));
    }
  }
  return out as ProviderKeys;
}

/**
 * Splits validated settings into the pieces, wrapping every key in a Secret.
 * `labelOf` names where a key came from (`ABUSEIPDB_API_KEY`, `config.json keys.abuseIpdb`).
 */
export function toLoadedConfig(settings: Settings, labelOf: (key: string) => string): LoadedConfig {
  const { redis, cache, policy, thresholds, privacy, subject, logLevel, keys } = settings;
  // zod's inferred optionals carry `| undefined`; the parsed value never holds one explicitly.
  let cacheSettings = cache as false | CacheSettings | undefined;
  if (cache !== undefined && cache !== false && typeof cache.secret === 'string') {
    // Bytes (from a settings function) stay bytes; text becomes a Secret like every key.
    cacheSettings = { ...cache, secret: toSecret(cache.secret, labelOf('cache.secret')) } as CacheSettings;
  }
  const engine: EngineSettings = {
    ...(redis === undefined ? {} : { redis }),
    ...(cacheSettings === undefined ? {} : { cache: cacheSettings }),
    ...(policy === undefined ? {} : { policy }),
    ...(thresholds === undefined ? {} : { thresholds }),
    ...(privacy === undefined ? {} : { privacy }),
  } as EngineSettings;
  return {
    engine,
    subject: (subject ?? {}) as SubjectOptions,
    keys: keysOf(keys, labelOf),
    ...(logLevel === undefined ? {} : { logLevel }),
  };
}
