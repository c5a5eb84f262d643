/**
 * `loadConfig`: settings from a JSON file, an object or a function (sync or async, e.g.
 * one that asks a vault), with the environment on top, validated in one pass.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../errors.js';
import { settingsFromEnv } from './env.js';
import { ENV_VARIABLES } from './env.js';
import type { Settings } from './schema.js';
import { mergeSettings, settingsIssues, toLoadedConfig } from './settings.js';
import type { LoadedConfig } from './settings.js';

/** Where settings come from: a JSON file (path or `file:` URL), the settings themselves, or a function returning them. */
export type ConfigSource = string | URL | Readonly<Record<string, unknown>> | (() => unknown);

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Environment variables laid over the source (default `process.env`); `false` reads
   * none. The environment wins, so one image can run with per-deployment values.
   */
  readonly env?: Readonly<Record<string, string | undefined>> | false;
}

const MAX_FILE_BYTES = 1024 * 1024;

async function readJsonFile(location: string | URL): Promise<{ raw: unknown; label: string }> {
  const path = location instanceof URL ? fileURLToPath(location) : location;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigurationError([`config file ${path}: could not be read${typeof code === 'string' ? ` (${code})` : ''}`]);
  }
  if (text.length > MAX_FILE_BYTES) throw new ConfigurationError([`config file ${path}: larger than ${MAX_FILE_BYTES} bytes`]);
  try {
    return { raw: JSON.parse(text) as unknown, label: path };
  } catch {
    // The parser's message quotes the text around the error, which may be a key.
    throw new ConfigurationError([`config file ${path}: not valid JSON`]);
  }
}

async function readSource(source: ConfigSource): Promise<{ raw: unknown; label: string }> {
  if (typeof source === 'string' || source instanceof URL) return readJsonFile(source);
  if (typeof source === 'function') {
    try {
      return { raw: await source(), label: 'config function' };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'error';
      throw new ConfigurationError([`config function: failed (${name})`]);
    }
  }
  return { raw: source, label: 'config' };
}

/**
 * Loads settings from a JSON file, an object or a function, lays the environment over
 * them, validates everything at once and returns the pieces: `engine` (spread into
 * `createFormSecurity`), `subject` (the adapters' `subject` option), `keys` (each a
 * Secret, for the provider factories) and `logLevel`. Throws one ConfigurationError
 * naming every wrong key, in the file and in the environment.
 *
 * @example
 * const { engine, subject, keys } = await loadConfig('./formsecurity.json');
 * const fs = createFormSecurity({
 *   ...engine,
 *   providers: [abuseIpdb({ key: keys.abuseIpdb! }), turnstile({ secret: keys.turnstile! })],
 * });
 * app.use(formSecurity({ engine: fs, subject }));
 */
export async function loadConfig(source: ConfigSource, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const { raw, label } = await readSource(source);
  const fromSource = settingsIssues(raw, label);
  const env = options.env === undefined ? process.env : options.env;
  let fromEnv: Settings = {};
  const envErrors: string[] = [];
  if (env !== false) {
    const read = settingsFromEnv(env);
    envErrors.push(...read.errors);
    const checked = settingsIssues(read.raw, 'environment');
    envErrors.push(...checked.errors);
    fromEnv = checked.settings ?? {};
  }
  const errors = [...fromSource.errors, ...envErrors];
  if (errors.length > 0 || fromSource.settings === undefined) throw new ConfigurationError(errors);
  const merged = mergeSettings(fromSource.settings, fromEnv);
  const envNames = new Map(ENV_VARIABLES.map((v) => [v.setting, v.name]));
  return toLoadedConfig(merged, (key) => {
    const setting = key === 'cache.secret' ? key : `keys.${key}`;
    const variable = envNames.get(setting);
    return variable !== undefined && env !== false && env[variable] !== undefined && env[variable] !== '' ? variable : `${label} ${setting}`;
  });
}
