import type { Decision, ResolvedPolicy, RoutePolicy, Subject, SubjectFacet, Verdict } from './contracts.js';
import { createFormSecurity, engineInternals } from './engine/create.js';
import type { FormSecurity, FormSecurityConfig } from './engine/create.js';
import { promised } from './promised.js';
import { createSubjectExtractor } from './subject/extract.js';
import type { RequestView, SubjectOptions } from './subject/extract.js';

/**
 * What every framework adapter shares: one engine, one subject extractor, one
 * validated route policy, and the rule for answering an enforced denial. The adapters
 * only translate their request into a `RequestView` and the result into a response.
 */
export interface GateOptions extends RoutePolicy {
  /** An engine to share between routes and adapters; built from `config` when absent. */
  readonly engine?: FormSecurity;
  /** How to build the engine when none is given (default: no providers). */
  readonly config?: FormSecurityConfig;
  /** Where the subject comes from: trusted proxies, body field names, bounds. */
  readonly subject?: SubjectOptions;
  /** HTTP methods that carry a submission (default POST, PUT, PATCH); others pass untouched. */
  readonly methods?: readonly string[];
}

/** The answer an adapter sends when a route enforces its verdict. */
export interface Denial {
  readonly status: number;
  readonly body: { readonly error: 'blocked' | 'challenge_required'; readonly decision: Decision };
}

export interface GateResult {
  readonly verdict: Verdict;
  /** Present when the route enforces and the decision is `block` or `challenge`. */
  readonly denial?: Denial;
}

export interface Gate {
  readonly engine: FormSecurity;
  readonly policy: ResolvedPolicy;
  /** Whether a request with this method is a submission to evaluate. */
  applies(method: string | undefined): boolean;
  /** Extracts, evaluates and decides; never rejects. */
  check(request: RequestView): Promise<GateResult>;
  /**
   * `check` without the promise when the verdict needed no waiting (every answer cached
   * or local), so an adapter can call the next handler in the same turn.
   */
  checkNow(request: RequestView): GateResult | Promise<GateResult>;
  /** The same engine and extractor with other route options (validated now). */
  route(options: RoutePolicy): Gate;
}

const DEFAULT_METHODS = ['POST', 'PUT', 'PATCH'];
const POLICY_KEYS = ['providers', 'require', 'budgetMs', 'onUnavailable', 'acceptStale', 'enforce', 'highValue'] as const;

/** The route-policy part of an options object. */
export function pickPolicy(options: RoutePolicy): RoutePolicy {
  const policy: Record<string, unknown> = {};
  for (const key of POLICY_KEYS) if (options[key] !== undefined) policy[key] = options[key];
  return policy as RoutePolicy;
}

/** The answer to an enforced verdict: 403 for `block` and for `challenge`, with a stable error code. */
export function denialFor(verdict: Verdict, policy: ResolvedPolicy): Denial | undefined {
  if (!policy.enforce) return undefined;
  if (verdict.decision === 'block') return { status: 403, body: { error: 'blocked', decision: 'block' } };
  if (verdict.decision === 'challenge') {
    return { status: 403, body: { error: 'challenge_required', decision: 'challenge' } };
  }
  return undefined;
}

function hasUnparsedBody(request: RequestView): boolean {
  if (request.body !== undefined) return false;
  const length = request.headers['content-length'];
  return (typeof length === 'string' && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

const MISSING_BODY =
  'request body not parsed: mount FormSecurity after the body parser to check e-mail and content';

/**
 * What of a request the engine's providers look at: undefined (everything) when one of
 * them does not say, or when the engine is not one `createFormSecurity` built.
 */
function facetsOf(engine: FormSecurity): readonly SubjectFacet[] | undefined {
  const providers = engineInternals(engine)?.providers;
  if (providers === undefined) return undefined;
  const facets = new Set<SubjectFacet>();
  for (const provider of providers) {
    if (provider.facets === undefined) return undefined;
    for (const facet of provider.facets) facets.add(facet);
  }
  return [...facets];
}

/**
 * Builds the shared request gate; throws ConfigurationError at set-up for wrong options.
 *
 * @example
 * const gate = createGate({ config: { providers: [myProvider] }, subject: { trustProxy: 1 }, enforce: true });
 * const { verdict, denial } = await gate.check({ remoteAddress, headers, body });
 */
export function createGate(options: GateOptions = {}): Gate {
  const engine = options.engine ?? createFormSecurity(options.config);
  // Only what some provider looks at is read from the request: less work, and no part of
  // a form is copied that nothing checks.
  const facets = facetsOf(engine);
  const extract = createSubjectExtractor({ ...(facets === undefined ? {} : { facets }), ...options.subject });
  const methods = new Set((options.methods ?? DEFAULT_METHODS).map((m) => m.toUpperCase()));

  // Another implementation of FormSecurity has only the promise-returning `evaluate`.
  const evaluate = engineInternals(engine)?.evaluateNow ?? ((subject: Subject, policy: RoutePolicy) => engine.evaluate(subject, policy));

  const build = (route: RoutePolicy): Gate => {
    const policy = engine.resolvePolicy(route);
    const settle = (verdict: Verdict): GateResult => {
      const denial = denialFor(verdict, policy);
      return denial === undefined ? { verdict } : { verdict, denial };
    };
    const checkNow = (request: RequestView): GateResult | Promise<GateResult> => {
      let subject: Subject = extract(request);
      if (hasUnparsedBody(request)) subject = { ...subject, issues: [...(subject.issues ?? []), MISSING_BODY] };
      const verdict = evaluate(subject, policy);
      return verdict instanceof Promise ? verdict.then(settle) : settle(verdict);
    };
    return {
      engine,
      policy,
      applies: (method) => method !== undefined && methods.has(method.toUpperCase()),
      checkNow,
      check: (request) => promised(() => checkNow(request)),
      route: (more) => build({ ...route, ...pickPolicy(more) }),
    };
  };
  return build(pickPolicy(options));
}
