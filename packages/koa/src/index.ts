/**
 * @formsecurity/koa — `app.use(formSecurity())` puts a verdict on `ctx.state.formSecurity`
 * before the next middleware runs. The adapter only translates: request in, verdict or answer out.
 */
import { createGate, createStatusEndpoints } from '@formsecurity/core';
import type {
  Denial,
  FormSecurity,
  Gate,
  GateOptions,
  GateResult,
  RoutePolicy,
  StatusEndpointOptions,
  StatusRequest,
  StatusResponse,
  Verdict,
} from '@formsecurity/core';
import type { Context, Middleware, Next } from 'koa';

declare module 'koa' {
  interface DefaultState {
    /** The verdict on this submission; absent for methods that carry none (GET, …). */
    formSecurity?: Verdict;
  }
}

/** Answers an enforced denial; the default sets `ctx.status` and a JSON `ctx.body`. */
export type DenialHandler = (ctx: Context, denial: Denial) => void | Promise<void>;

export interface FormSecurityOptions extends GateOptions {
  /** Answers a `block` when the route enforces (default: 403 JSON). */
  readonly onBlock?: DenialHandler;
  /** Answers a `challenge` when the route enforces (default: 403 JSON `challenge_required`). */
  readonly onChallenge?: DenialHandler;
}

type Handlers = Pick<FormSecurityOptions, 'onBlock' | 'onChallenge'>;

/** The middleware, with a way to derive route-level middleware sharing the same engine. */
export interface FormSecurityMiddleware extends Middleware {
  readonly engine: FormSecurity;
  /** Middleware for one route with other options (`enforce`, `require`, `budgetMs`, …). */
  route(options: RoutePolicy & Handlers): FormSecurityMiddleware;
  /** The engine's health as JSON, for readiness probes: 200 when ok or degraded, 503 when down; 401 without the token. */
  healthCheck(options: StatusEndpointOptions): Middleware;
  /** The HTML status page, reloading itself; 401 without the token. */
  statusPage(options: StatusEndpointOptions): Middleware;
}

const sendDenial: DenialHandler = (ctx, denial) => {
  ctx.status = denial.status;
  ctx.body = denial.body;
};

async function answerWith(answer: (request: StatusRequest) => Promise<StatusResponse>, ctx: Context): Promise<void> {
  const { status, headers, body } = await answer({ url: ctx.originalUrl, headers: ctx.headers });
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}

function statusHandlers(engine: FormSecurity) {
  return {
    healthCheck(options: StatusEndpointOptions): Middleware {
      const { health } = createStatusEndpoints(engine, options);
      return async function formSecurityHealth(ctx: Context) {
        await answerWith(health, ctx);
      };
    },
    statusPage(options: StatusEndpointOptions): Middleware {
      const { page } = createStatusEndpoints(engine, options);
      return async function formSecurityStatusPage(ctx: Context) {
        await answerWith(page, ctx);
      };
    },
  };
}

function middlewareFor(gate: Gate, onBlock: DenialHandler, onChallenge: DenialHandler): FormSecurityMiddleware {
  // Not async: a request that goes on hands back next()'s own promise, with no extra one
  // to adopt it. A denial handler's throw reaches Koa either way (koa-compose turns a
  // synchronous throw into a rejection).
  const proceed = (ctx: Context, next: Next, { verdict, denial }: GateResult): Promise<void> => {
    ctx.state.formSecurity = verdict;
    if (denial === undefined) return next();
    return Promise.resolve((verdict.decision === 'challenge' ? onChallenge : onBlock)(ctx, denial));
  };
  const formSecurity = function formSecurity(ctx: Context, next: Next): Promise<void> {
    if (!gate.applies(ctx.method)) return next();
    const result = gate.checkNow({
      remoteAddress: ctx.req.socket.remoteAddress,
      headers: ctx.headers,
      body: (ctx.request as { body?: unknown }).body,
    });
    // A verdict that needed no waiting goes on in this turn (koa-compose turns a throw into a rejection).
    return result instanceof Promise ? result.then((settled) => proceed(ctx, next, settled)) : proceed(ctx, next, result);
  };
  return Object.assign(formSecurity, {
    engine: gate.engine,
    ...statusHandlers(gate.engine),
    route: (options: RoutePolicy & Handlers) =>
      middlewareFor(gate.route(options), options.onBlock ?? onBlock, options.onChallenge ?? onChallenge),
  });
}

/**
 * Builds the middleware. Mount it after the body parser so e-mail and content can be
 * checked; options are validated now, so a wrong one fails at start-up.
 *
 * @example
 * import Koa from 'koa';
 * import { bodyParser } from '@koa/bodyparser';
 * import { formSecurity } from '@formsecurity/koa';
 *
 * const app = new Koa();
 * const guard = formSecurity({ subject: { trustProxy: 1 } });
 * app.use(bodyParser());
 * app.use(guard);
 * app.use((ctx) => { ctx.body = ctx.state.formSecurity; });
 * // The health endpoint and status page are off unless mounted (here with @koa/router),
 * // and ask for the token (Authorization: Bearer … or ?token=…).
 * router.get('/formsecurity/health', guard.healthCheck({ token: process.env.FORMSECURITY_STATUS_TOKEN! }));
 * router.get('/formsecurity/status', guard.statusPage({ token: process.env.FORMSECURITY_STATUS_TOKEN! }));
 */
export function formSecurity(options: FormSecurityOptions = {}): FormSecurityMiddleware {
  return middlewareFor(createGate(options), options.onBlock ?? sendDenial, options.onChallenge ?? sendDenial);
}

export type { Denial, Verdict } from '@formsecurity/core';
