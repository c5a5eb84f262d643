/**
 * The one schema of FormSecurity's options (zod 4): the engine's configuration, the
 * gate's and subject extractor's options, and the serialisable settings that come from
 * a file or the environment. Each leaf says what it expects in words, so a wrong value
 * reads `policy.budgetMs: expected milliseconds in (0, 60000], got -1`.
 */
import { z } from 'zod';
import { DECISIONS } from '../contracts.js';
import type { SubjectFacet } from '../contracts.js';
import { parseCidr } from '../subject/ip.js';
import { isSecret } from './secret.js';
import type { Secret } from './secret.js';

/** The defaults every option falls back to, in one place (the modules apply them). */
export const CONFIG_DEFAULTS = {
  policy: { budgetMs: 100, onUnavailable: 'allow', acceptStale: true, enforce: false, highValue: false },
  thresholds: { review: 0.3, challenge: 0.6, block: 0.85 },
  registration: { timeoutMs: 3_000, bulkhead: { maxConcurrent: 32 } },
  subject: {
    trustProxy: false,
    forwardedHeader: 'x-forwarded-for',
    maxContentLength: 10_000,
    maxFields: 50,
    maxFieldLength: 4_096,
    keepFields: ['cf-turnstile-response', 'h-captcha-response'],
  },
  privacy: { sendContent: true, sendEmail: true, sendUsername: true, sharedFields: ['cf-turnstile-response', 'h-captcha-response'] },
  methods: ['POST', 'PUT', 'PATCH'],
} as const;

export const MAX_BUDGET_MS = 60_000;
export const MAX_TRUSTED_HOPS = 64;
export const MIN_CACHE_SECRET_BYTES = 16;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const FACETS: readonly SubjectFacet[] = ['ip', 'email', 'username', 'content', 'userAgent', 'fields'];
const TRUST_PRESETS = ['loopback', 'private'];

// ---- leaves --------------------------------------------------------------------------

/** A number leaf with its expectation in words. */
const numberWhere = (what: string, ok: (n: number) => boolean) =>
  z.custom<number>((v) => typeof v === 'number' && ok(v), { error: `expected ${what}` });

const unit = () => numberWhere('a number in 0..1', (n) => n >= 0 && n <= 1);
const positiveMs = () => numberWhere('a positive number of milliseconds', (n) => Number.isFinite(n) && n > 0);
const nonNegativeMs = () => numberWhere('a number of milliseconds >= 0', (n) => Number.isFinite(n) && n >= 0);
const positiveInt = () => numberWhere('a positive whole number', (n) => Number.isInteger(n) && n > 0);
const nonNegativeInt = () => numberWhere('a whole number >= 0', (n) => Number.isInteger(n) && n >= 0);
const share = (what: string, ok: (n: number) => boolean) => numberWhere(what, (n) => Number.isFinite(n) && ok(n));
const nonEmptyString = () => z.custom<string>((v) => typeof v === 'string' && v.trim() !== '', { error: 'expected a non-empty string' });
const fn = <T = (...args: never[]) => unknown>(what = 'a function') =>
  z.custom<T>((v) => typeof v === 'function', { error: `expected ${what}` });
const names = () => z.array(z.string());
const orFalse = <T extends z.ZodType>(schema: T, what: string) => z.union([z.literal(false), schema], { error: `expected false or ${what}` });

/** A redis:// or rediss:// URL. The URL may hold a password, so it is never quoted back. */
export const redisUrlSchema = z.custom<string>(
  (v) => {
    if (typeof v !== 'string') return false;
    try {
      const url = new URL(v);
      return url.protocol === 'redis:' || url.protocol === 'rediss:';
    } catch {
      return false;
    }
  },
  { error: 'expected a redis:// or rediss:// URL' },
);

/** A key given as a string or a Secret; strings must hold a value without line breaks. */
export const secretInputSchema = z.custom<string | Secret>(
  (v) => (typeof v === 'string' && v.trim() !== '' && !/[\r\n]/.test(v)) || isSecret(v),
  { error: 'expected a non-empty string without line breaks, or a Secret' },
);

const cacheSecretSchema = z.custom<string | Uint8Array | Secret>(
  (v) => {
    if (isSecret(v)) return true;
    if (typeof v === 'string') return Buffer.byteLength(v, 'utf8') >= MIN_CACHE_SECRET_BYTES;
    return v instanceof Uint8Array && v.byteLength >= MIN_CACHE_SECRET_BYTES;
  },
  { error: `expected at least ${MIN_CACHE_SECRET_BYTES} bytes (a string, bytes or a Secret)` },
);

const trustProxySchema = z.custom<false | number | readonly string[]>(
  (v) =>
    v === false ||
    (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TRUSTED_HOPS) ||
    (Array.isArray(v) && v.every((entry) => typeof entry === 'string')),
  { error: `expected false, a whole number of hops 0..${MAX_TRUSTED_HOPS} or a list of CIDR ranges` },
).superRefine((value, ctx) => {
  if (!Array.isArray(value)) return;
  value.forEach((entry: string, index: number) => {
    if (!TRUST_PRESETS.includes(entry) && parseCidr(entry) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [index],
        input: entry,
        message: 'expected an IP address, a CIDR range, "loopback" or "private"',
      });
    }
  });
});

// ---- the parts of the engine configuration -----------------------------------------

const limitsSchema = z.strictObject({
  perSecond: positiveInt().optional(),
  perMinute: positiveInt().optional(),
  daily: positiveInt().optional(),
  monthly: positiveInt().optional(),
});

/** What a provider object must look like; other members are its own business. */
export const providerSchema = z.looseObject({
  name: nonEmptyString(),
  version: z.string().optional(),
  facets: z.array(z.enum(FACETS as [SubjectFacet, ...SubjectFacet[]])).optional(),
  local: z.boolean().optional(),
  defaults: z
    .looseObject({ weight: unit().optional(), ttlMs: positiveMs().optional(), limits: limitsSchema.optional() })
    .optional(),
  check: fn('a function check(subject, { signal })'),
  report: fn().optional(),
});

const cachePolicySchema = z.strictObject({
  ttlMs: positiveMs().optional(),
  negativeTtlMs: positiveMs().optional(),
  isNegative: fn().optional(),
  graceMs: nonNegativeMs().optional(),
  staleWhileRevalidateMs: nonNegativeMs().optional(),
});

const quotaLimitSchema = z.strictObject({
  limit: numberWhere('a positive number', (n) => Number.isFinite(n) && n > 0),
  reserveShare: share('a number with 0 <= share < 1', (n) => n >= 0 && n < 1).optional(),
  rolling: z.boolean().optional(),
});

/** A provider's quota options; the quota module checks the finer rules when it is built. */
const quotaSchema = z.looseObject({
  perSecond: positiveInt().optional(),
  perMinute: positiveInt().optional(),
  maxConcurrent: positiveInt().optional(),
  daily: quotaLimitSchema.optional(),
  monthly: quotaLimitSchema.optional(),
  timeZone: nonEmptyString().optional(),
  costPerCall: numberWhere('a finite number >= 0', (n) => Number.isFinite(n) && n >= 0).optional(),
  spendCap: z.strictObject({ daily: quotaLimitSchema.optional(), monthly: quotaLimitSchema.optional() }).optional(),
  keyPrefix: nonEmptyString().optional(),
  fallbackShare: share('a number with 0 < share <= 1', (n) => n > 0 && n <= 1).optional(),
  maxWaitMs: nonNegativeMs().optional(),
  rateLimitedPauseMs: positiveMs().optional(),
  quotaExceededPauseMs: positiveMs().optional(),
  pauseCheckMs: positiveMs().optional(),
  storageTimeoutMs: positiveMs().optional(),
});

/** A provider's breaker options; the breaker checks its strategy's own options when built. */
const breakerSchema = z.looseObject({
  strategy: z.looseObject({}).optional(),
  slowCallMs: positiveMs().optional(),
  halfOpen: z.looseObject({}).optional(),
  backoff: z.looseObject({}).optional(),
  isFailure: fn().optional(),
  initialState: z.looseObject({}).optional(),
  random: fn().optional(),
});

export const registrationSchema = z.strictObject({
  provider: providerSchema,
  weight: unit().optional(),
  timeoutMs: positiveMs().optional(),
  breaker: orFalse(breakerSchema, 'breaker options').optional(),
  bulkhead: orFalse(
    z.strictObject({ maxConcurrent: positiveInt(), maxQueue: nonNegativeInt().optional() }),
    '{ maxConcurrent, maxQueue? }',
  ).optional(),
  quota: orFalse(quotaSchema, 'quota options').optional(),
  cache: orFalse(cachePolicySchema, 'cache lifetimes').optional(),
});

/**
 * One entry of `providers`: a provider, or `{ provider, ...engine settings }`. The two
 * are told apart by the `provider` key, so errors point into the right shape.
 */
const providerEntrySchema = z.unknown().superRefine((value, ctx) => {
  const isRegistration = typeof value === 'object' && value !== null && 'provider' in value;
  const parsed = (isRegistration ? registrationSchema : providerSchema).safeParse(value, { reportInput: true });
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue(issue as never);
});

export const routePolicySchema = z.strictObject({
  providers: names().optional(),
  require: names().optional(),
  budgetMs: numberWhere(`milliseconds in (0, ${MAX_BUDGET_MS}]`, (n) => Number.isFinite(n) && n > 0 && n <= MAX_BUDGET_MS).optional(),
  onUnavailable: z.enum(DECISIONS as ['allow', 'review', 'challenge', 'block']).optional(),
  acceptStale: z.boolean().optional(),
  enforce: z.boolean().optional(),
  highValue: z.boolean().optional(),
});

export const thresholdsSchema = z.strictObject({
  review: unit().optional(),
  challenge: unit().optional(),
  block: unit().optional(),
});

export const privacySchema = z.strictObject({
  sendContent: z.boolean().optional(),
  sendEmail: z.boolean().optional(),
  sendUsername: z.boolean().optional(),
  sharedFields: names().optional(),
});

const loggerSchema = z.custom<object>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error'].every((level) => typeof (v as Record<string, unknown>)[level] === 'function'),
  { error: 'expected a logger with debug, info, warn and error methods' },
);

const keyvLike = z.custom<object>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { get?: unknown }).get === 'function' && typeof (v as { set?: unknown }).set === 'function',
  { error: 'expected a Keyv instance (an object with get and set)' },
);

const redisConnectionShape = {
  url: redisUrlSchema,
  connectTimeoutMs: positiveMs().optional(),
  maxReconnectDelayMs: positiveMs().optional(),
};

const l2Schema = z.union(
  [
    z.literal(false),
    z.strictObject({ memory: z.strictObject({ maxEntries: positiveInt().optional() }) }),
    z.strictObject({
      redis: z.strictObject({
        ...redisConnectionShape,
        lockTimeoutMs: positiveMs().optional(),
        lockTtlMs: positiveMs().optional(),
        lockWaitMs: positiveMs().optional(),
        lockPollMs: positiveMs().optional(),
      }),
    }),
    z.strictObject({
      sqlite: z.strictObject({
        path: nonEmptyString(),
        table: nonEmptyString().optional(),
        busyTimeoutMs: positiveMs().optional(),
        sweepIntervalMs: positiveMs().optional(),
      }),
    }),
    keyvLike,
  ],
  { error: 'expected false, { memory }, { redis: { url } }, { sqlite: { path } } or a Keyv instance' },
);

const cacheShape = {
  secret: cacheSecretSchema.optional(),
  namespace: z
    .custom<string>((v) => typeof v === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(v), {
      error: 'expected 1-64 characters of A-Z a-z 0-9 . _ : -',
    })
    .optional(),
  l1: z.strictObject({ maxEntries: positiveInt().optional(), maxBytes: positiveInt().optional() }).optional(),
  l2TimeoutMs: positiveMs().optional(),
  l2FailureThreshold: positiveInt().optional(),
  l2OpenMs: positiveMs().optional(),
  schemaVersion: positiveInt().optional(),
};

export const tieredCacheSchema = z.strictObject({
  ...cacheShape,
  l2: l2Schema.optional(),
  defaults: cachePolicySchema.optional(),
  now: fn().optional(),
});

/** Every option of `createFormSecurity`. Cross-key rules (duplicate names, ordering) are checked in validate.ts. */
export const engineConfigSchema = z.strictObject({
  providers: z.array(providerEntrySchema).optional(),
  policy: routePolicySchema.optional(),
  thresholds: thresholdsSchema.optional(),
  now: fn().optional(),
  clock: fn().optional(),
  logger: loggerSchema.optional(),
  redis: z.strictObject({ ...redisConnectionShape, breakerChannel: z.string().min(1).max(200).optional() }).optional(),
  cache: orFalse(tieredCacheSchema, 'cache options').optional(),
  quotaStore: keyvLike.optional(),
  privacy: privacySchema.optional(),
});

// ---- subject and gate ---------------------------------------------------------------

export const subjectOptionsSchema = z.strictObject({
  trustProxy: trustProxySchema.optional(),
  forwardedHeader: z.enum(['x-forwarded-for', 'forwarded']).optional(),
  fields: z
    .strictObject({ email: names().optional(), username: names().optional(), content: names().optional() })
    .optional(),
  maxContentLength: positiveInt().optional(),
  maxFields: positiveInt().optional(),
  maxFieldLength: positiveInt().optional(),
  keepFields: names().optional(),
});

const engineLike = z.custom<object>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { evaluate?: unknown }).evaluate === 'function',
  { error: 'expected an engine built by createFormSecurity' },
);

/**
 * The options every adapter takes (`formSecurity(options)`, `FormSecurityModule.forRoot`):
 * route policy keys, plus where the engine and the subject come from. Adapters add their
 * own keys (`onBlock`, …), so unknown keys are left to them.
 */
export const gateOptionsSchema = routePolicySchema.extend({
  engine: engineLike.optional(),
  config: engineConfigSchema.optional(),
  subject: subjectOptionsSchema.optional(),
  methods: z.array(nonEmptyString()).optional(),
}).loose();

// ---- serialisable settings (a JSON file, the environment) ----------------------------

const keysSchema = z.strictObject({
  abuseIpdb: secretInputSchema.optional(),
  akismet: secretInputSchema.optional(),
  moderation: secretInputSchema.optional(),
  ipQualityScore: secretInputSchema.optional(),
  ipApi: secretInputSchema.optional(),
  turnstile: secretInputSchema.optional(),
  hcaptcha: secretInputSchema.optional(),
  spamhausDqs: secretInputSchema.optional(),
  maxmind: z
    .strictObject({
      accountId: z.custom<string | number>(
        (v) => (typeof v === 'string' && /^\d{1,12}$/.test(v)) || (typeof v === 'number' && Number.isInteger(v) && v > 0),
        { error: 'expected the numeric MaxMind account id' },
      ),
      licenseKey: secretInputSchema,
    })
    .optional(),
});

/**
 * What a configuration file (JSON) or function may hold: everything that is data, not
 * code. Providers are built in code from `keys`; see `loadConfig`.
 */
export const settingsSchema = z.strictObject({
  redis: z.strictObject(redisConnectionShape).optional(),
  cache: orFalse(
    z.strictObject({
      ...cacheShape,
      l2: z
        .union(
          [
            z.literal(false),
            z.strictObject({ memory: z.strictObject({ maxEntries: positiveInt().optional() }) }),
            z.strictObject({ redis: z.strictObject(redisConnectionShape) }),
            z.strictObject({ sqlite: z.strictObject({ path: nonEmptyString() }) }),
          ],
          { error: 'expected false, { memory }, { redis: { url } } or { sqlite: { path } }' },
        )
        .optional(),
      defaults: cachePolicySchema.omit({ isNegative: true }).optional(),
    }),
    'cache options',
  ).optional(),
  policy: routePolicySchema.optional(),
  thresholds: thresholdsSchema.optional(),
  privacy: privacySchema.optional(),
  subject: subjectOptionsSchema.optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  keys: keysSchema.optional(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type ProviderKeysSettings = z.infer<typeof keysSchema>;
