/**
 * Configuration and security: the options schema, start-up validation, configuration
 * from the environment, a file or a function, secrets that never print, engine-wide
 * privacy and transport warnings. The core's entry re-exports this file.
 */
export { REDACTED_SECRET, Secret, isSecret, revealSecret, toSecret } from './secret.js';
export type { SecretInput, SecretOptions } from './secret.js';
export { secretFrom } from './rotating-secret.js';
export type { RotatingSecret, SecretFromOptions } from './rotating-secret.js';
export {
  CONFIG_DEFAULTS,
  engineConfigSchema,
  gateOptionsSchema,
  providerSchema,
  registrationSchema,
  routePolicySchema,
  settingsSchema,
  subjectOptionsSchema,
} from './schema.js';
export type { Settings } from './schema.js';
export { checkConfig, prepareConfig, validateConfig, validateGateOptions } from './validate.js';
export type { ConfigCheck, PreparedConfig } from './validate.js';
export { ENV_VARIABLES, configFromEnv } from './env.js';
export type { EnvVariable } from './env.js';
export { loadConfig } from './load.js';
export type { ConfigSource, LoadConfigOptions } from './load.js';
export type { CacheSettings, EngineSettings, LoadedConfig, ProviderKeys } from './settings.js';
export { applyPrivacy, createPrivacyFilter, withheldFacets } from './privacy.js';
export type { PrivacyOptions } from './privacy.js';
export { declareEndpoints, endpointsOf, isLoopbackHostname, transportWarnings } from './transport.js';
