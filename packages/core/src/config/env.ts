/**
 * Configuration from environment variables: `FORMSECURITY_*` for the engine, and each
 * provider's usual key variable. `ENV_VARIABLES` is the one list; docs/configuration.md
 * shows it as a table, and a test keeps the two in step.
 */
import { ConfigurationError } from '../errors.js';
import type { Settings } from './schema.js';
import { settingsIssues, toLoadedConfig } from './settings.js';
import type { LoadedConfig } from './settings.js';

/** One environment variable: where its value goes and how it is read. */
export interface EnvVariable {
  readonly name: string;
  /** The settings key it sets, e.g. `policy.budgetMs`. */
  readonly setting: string;
  readonly description: string;
  /** Secrets are wrapped in a Secret and never quoted in an error. */
  readonly secret: boolean;
  /** Turns the text into the setting's value; a value it cannot read is passed on as text for the schema to name. */
  readonly read: (text: string) => unknown;
}

const asText = (text: string): string => text;

const asNumber = (text: string): unknown => (/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text);

const asBoolean = (text: string): unknown => {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  return text;
};

/** `false` (or `0` hops is a number, so: `false`, `none`), a hop count, or a comma-separated list of ranges. */
const asTrustProxy = (text: string): unknown => {
  const value = text.trim();
  if (value === 'false' || value === 'none') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
};

const variable = (name: string, setting: string, description: string, read: (text: string) => unknown, secret = false): EnvVariable => ({
  name,
  setting,
  description,
  secret,
  read,
});

/**
 * Every environment variable FormSecurity reads. An empty value counts as unset.
 *
 * @example
 * for (const v of ENV_VARIABLES) console.log(v.name, '→', v.setting);
 */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  variable('FORMSECURITY_CACHE_SECRET', 'cache.secret', 'HMAC key of every cache key (at least 16 bytes). Without it a random key is made per process, with a warning.', asText, true),
  variable('FORMSECURITY_REDIS_URL', 'redis.url', 'Redis for the shared cache tier, quotas and breaker state (`redis://` or `rediss://`; may hold a password, never logged).', asText, true),
  variable('FORMSECURITY_BUDGET_MS', 'policy.budgetMs', 'Deadline of one evaluation in milliseconds (default 100).', asNumber),
  variable('FORMSECURITY_ON_UNAVAILABLE', 'policy.onUnavailable', 'Decision when a required provider has no answer: allow, review, challenge or block (default allow).', asText),
  variable('FORMSECURITY_LOG_LEVEL', 'logLevel', 'Level of the default logger: debug, info, warn, error or silent (default warn).', asText),
  variable('FORMSECURITY_TRUST_PROXY', 'subject.trustProxy', 'Who may tell the client IP: `false` (default), a number of proxy hops, or comma-separated CIDR ranges / `loopback` / `private`.', asTrustProxy),
  variable('FORMSECURITY_FORWARDED_HEADER', 'subject.forwardedHeader', 'The header read through trusted proxies: x-forwarded-for (default) or forwarded.', asText),
  variable('FORMSECURITY_SEND_CONTENT', 'privacy.sendContent', 'false keeps message text from every third-party service (default true).', asBoolean),
  variable('FORMSECURITY_SEND_EMAIL', 'privacy.sendEmail', 'false keeps e-mail addresses from every third-party service (default true).', asBoolean),
  variable('FORMSECURITY_SEND_USERNAME', 'privacy.sendUsername', 'false keeps usernames from every third-party service (default true).', asBoolean),
  variable('ABUSEIPDB_API_KEY', 'keys.abuseIpdb', 'AbuseIPDB API key (`abuseIpdb({ key })`).', asText, true),
  variable('AKISMET_API_KEY', 'keys.akismet', 'Akismet API key (`akismet({ apiKey })`).', asText, true),
  variable('OPENAI_API_KEY', 'keys.moderation', 'OpenAI (or compatible) moderation key (`moderation({ apiKey })`).', asText, true),
  variable('IPQS_API_KEY', 'keys.ipQualityScore', 'IPQualityScore private key (`ipQualityScore({ key })`).', asText, true),
  variable('IPAPI_KEY', 'keys.ipApi', 'ip-api pro key (`ipApi({ key })`); without it the free plain-HTTP endpoint needs `acceptPlainHttp`.', asText, true),
  variable('MAXMIND_ACCOUNT_ID', 'keys.maxmind.accountId', 'MaxMind account id (with MAXMIND_LICENSE_KEY).', asText),
  variable('MAXMIND_LICENSE_KEY', 'keys.maxmind.licenseKey', 'MaxMind license key (`maxmindWebService({ accountId, licenseKey })`).', asText, true),
  variable('TURNSTILE_SECRET', 'keys.turnstile', 'Cloudflare Turnstile secret key (`turnstile({ secret })`).', asText, true),
  variable('HCAPTCHA_SECRET', 'keys.hcaptcha', 'hCaptcha secret key (`hcaptcha({ secret })`).', asText, true),
  variable('SPAMHAUS_DQS_KEY', 'keys.spamhausDqs', 'Spamhaus Data Query Service key (`spamhausZen({ dqsKey })`).', asText, true),
];

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Rewrites a settings path at the start of a message into the variable that set it. */
function renameToVariable(message: string): string {
  let best: EnvVariable | undefined;
  for (const v of ENV_VARIABLES) {
    if ((message.startsWith(`env: ${v.setting}:`) || message.startsWith(`env: ${v.setting}[`)) && v.setting.length > (best?.setting.length ?? 0)) best = v;
  }
  return best === undefined ? message.replace(/^env: /, '') : `${best.name} (${best.setting})${message.slice(`env: ${best.setting}`.length)}`;
}

/** The raw settings the environment holds, before validation. */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): { raw: Settings; errors: string[] } {
  const raw: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const v of ENV_VARIABLES) {
    const text = env[v.name];
    if (text === undefined || text.trim() === '') continue;
    setPath(raw, v.setting, v.read(text));
  }
  const maxmind = (raw['keys'] as { maxmind?: Record<string, unknown> } | undefined)?.maxmind;
  if (maxmind !== undefined && (maxmind['accountId'] === undefined || maxmind['licenseKey'] === undefined)) {
    errors.push('MAXMIND_ACCOUNT_ID and MAXMIND_LICENSE_KEY: expected both or neither');
    delete (raw['keys'] as Record<string, unknown>)['maxmind'];
  }
  return { raw: raw as Settings, errors };
}

/**
 * Reads the configuration the environment holds (default `process.env`) and returns it
 * in pieces. Throws one ConfigurationError naming every wrong variable; a secret's
 * value is never quoted.
 *
 * @example
 * const { engine, subject, keys, logLevel } = configFromEnv();
 * const engine = createFormSecurity({ ...engine, logger: defaultLogger(logLevel), providers: [turnstile({ secret: keys.turnstile! })] });
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): LoadedConfig {
  const { raw, errors } = settingsFromEnv(env);
  const checked = settingsIssues(raw, 'env');
  const all = [...errors, ...checked.errors.map(renameToVariable)];
  if (all.length > 0 || checked.settings === undefined) throw new ConfigurationError(all);
  const byKey = new Map(ENV_VARIABLES.map((v) => [v.setting, v.name]));
  return toLoadedConfig(checked.settings, (key) => byKey.get(key === 'cache.secret' ? key : `keys.${key}`) ?? key);
}
