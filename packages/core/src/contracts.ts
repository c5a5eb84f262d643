/**
 * The contracts every part of FormSecurity speaks: what a provider is given, what it
 * answers, and what the engine hands back to the application.
 */

/** What the application should do with a submission, from most to least permissive. */
export type Decision = 'allow' | 'review' | 'challenge' | 'block';

/** Decisions ordered by severity; the stricter of two decisions wins wherever they meet. */
export const DECISIONS: readonly Decision[] = ['allow', 'review', 'challenge', 'block'];

/**
 * The facts about one submission that providers look at. Every field is optional: a
 * value that was missing or malformed is left out, and why is said in `issues`.
 *
 * @example
 * const subject: Subject = { ip: '203.0.113.7', email: 'someone@example.org' };
 */
export interface Subject {
  /** Client IP, normalised (IPv4 dotted quad, or compressed lower-case IPv6). */
  readonly ip?: string;
  /** E-mail address, trimmed; the domain is lower-cased. */
  readonly email?: string;
  readonly username?: string;
  /** Free text of the message, bounded in length. */
  readonly content?: string;
  readonly userAgent?: string;
  /** Raw form fields, for local detectors (honeypot, time trap). Bounded in count and length. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Values that were left out of the subject, each with the reason. */
  readonly issues?: readonly string[];
}

/** A subject facet a provider can look at; used to skip providers that have nothing to see. */
export type SubjectFacet = 'ip' | 'email' | 'username' | 'content' | 'userAgent' | 'fields';

/** What a provider's `check` receives besides the subject. */
export interface CheckContext {
  /** Fires at the request's deadline: pass it to every socket the call opens. */
  readonly signal: AbortSignal;
}

/**
 * A provider's answer: a risk score from 0 (clean) to 1 (certainly abusive), short
 * human-readable reasons and JSON-serialisable details.
 */
export interface ProviderResult {
  readonly score: number;
  readonly reasons?: readonly string[];
  readonly data?: Readonly<Record<string, unknown>>;
  /** What the upstream said about its own limits, for the quota layer. */
  readonly upstream?: UpstreamLimits;
}

/** Rate-limit facts read from an upstream answer's headers or body. */
export interface UpstreamLimits {
  /** Calls left in the upstream's current window. */
  readonly remaining?: number;
  /** When the upstream's window resets (epoch milliseconds). */
  readonly resetAtMs?: number;
  /** Send nothing for this long (milliseconds). */
  readonly retryAfterMs?: number;
}

/** Defaults a provider proposes; the engine configuration can override each. */
export interface ProviderDefaults {
  /** How much a full score from this provider counts, 0..1 (default 1). */
  readonly weight?: number;
  /** Fresh lifetime of a cached answer in milliseconds. */
  readonly ttlMs?: number;
  /** The service's documented free-tier limits; the engine enforces them unless told otherwise. */
  readonly limits?: ProviderLimits;
}

/** Call limits of a service, as its documentation states them. */
export interface ProviderLimits {
  readonly perSecond?: number;
  readonly perMinute?: number;
  readonly daily?: number;
  readonly monthly?: number;
}

/**
 * A source of evidence about a submission. Providers hold no caching, retry or
 * breaker code: the engine wraps every call in those.
 *
 * @example
 * const honeypot: Provider = {
 *   name: 'honeypot',
 *   facets: ['fields'],
 *   local: true,
 *   async check(subject) {
 *     const filled = (subject.fields?.['website'] ?? '') !== '';
 *     return { score: filled ? 1 : 0, reasons: filled ? ['honeypot field filled'] : [] };
 *   },
 * };
 */
export interface Provider {
  /** Unique within one engine; used in verdicts, metrics and cache keys. */
  readonly name: string;
  /** Bumped when the meaning of the provider's answer changes, so old cache entries are ignored. */
  readonly version?: string;
  /** The subject facets it needs; when none of them is present the provider is `skipped`. */
  readonly facets?: readonly SubjectFacet[];
  /** A local provider never leaves the process: it is not cached, rate limited or broken. */
  readonly local?: boolean;
  readonly defaults?: ProviderDefaults;
  /**
   * Looks at the subject. A local provider may answer synchronously: the engine then
   * spends no promise or timer on it, and a request whose other answers are cached is
   * decided without waiting at all.
   */
  check(subject: Subject, context: CheckContext): ProviderResult | Promise<ProviderResult>;
  /**
   * Forwards a moderator's judgement to the service, for providers that accept one
   * (Akismet submit-spam / submit-ham, AbuseIPDB report). Called through the same
   * breaker and quota as `check`, never on the request path.
   */
  report?(subject: Subject, kind: ReportKind, context: CheckContext): Promise<void>;
}

/** A provider whose answer always comes later (every built-in one that calls a service). */
export interface AsyncProvider extends Provider {
  check(subject: Subject, context: CheckContext): Promise<ProviderResult>;
}

/** A moderator's judgement of a submission. */
export type ReportKind = 'spam' | 'ham';

/** How one provider's contribution to a verdict came about. */
export type SignalStatus =
  | 'fresh'
  | 'cached'
  | 'stale'
  | 'timeout'
  | 'circuit-open'
  | 'quota-exhausted'
  | 'error'
  | 'skipped';

/** Statuses that carry a usable score. */
export const USABLE_STATUSES: ReadonlySet<SignalStatus> = new Set(['fresh', 'cached', 'stale']);

/** One provider's contribution to a verdict. */
export interface Signal {
  readonly status: SignalStatus;
  /** Present when the status is usable (`fresh`, `cached`, `stale`). */
  readonly score?: number;
  readonly reasons: readonly string[];
  readonly data?: Readonly<Record<string, unknown>>;
  /** Stable code of what went wrong (see errors.ts), when something did. */
  readonly code?: string;
  /** Time spent waiting for this signal within the request. */
  readonly latencyMs: number;
  /** Age of a cached or stale value. */
  readonly ageMs?: number;
}

/** What the engine concluded about one submission. */
export interface Verdict {
  readonly decision: Decision;
  /** Combined risk 0..1. */
  readonly score: number;
  /** True when a selected provider had no usable answer. */
  readonly degraded: boolean;
  readonly reasons: readonly string[];
  readonly signals: Readonly<Record<string, Signal>>;
  readonly durationMs: number;
}

/**
 * Per-route options; each overrides the engine's defaults.
 *
 * @example
 * const signup: RoutePolicy = { require: ['stopforumspam'], onUnavailable: 'challenge', enforce: true };
 */
export interface RoutePolicy {
  /** Providers to consult (default: all registered). */
  readonly providers?: readonly string[];
  /** Providers without whose answer `onUnavailable` applies. */
  readonly require?: readonly string[];
  /** The whole evaluation's deadline in milliseconds (default 100). */
  readonly budgetMs?: number;
  /** The least strict decision when a required provider has no usable answer (default `allow`). */
  readonly onUnavailable?: Decision;
  /** Whether a stale cached value counts as an answer (default true). */
  readonly acceptStale?: boolean;
  /** Whether the adapter answers a `block` (403) or `challenge` itself (default false: annotate only). */
  readonly enforce?: boolean;
  /** A high-value route may still spend a provider's reserved quota. */
  readonly highValue?: boolean;
}

/** A policy with every default filled in. */
export interface ResolvedPolicy {
  readonly providers: readonly string[];
  readonly require: readonly string[];
  readonly budgetMs: number;
  readonly onUnavailable: Decision;
  readonly acceptStale: boolean;
  readonly enforce: boolean;
  readonly highValue: boolean;
}
