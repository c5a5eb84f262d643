/**
 * @formsecurity/express — `app.use(formSecurity())` attaches a verdict to `req` before
 * the route handler runs. The adapter only translates: request in, verdict or answer out.
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
import type { NextFunction, Request, RequestHandler, Response } from 'express';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verdict on this submission; absent for methods that carry none (GET, …). */
      formSecurity?: Verdict;
    }
  }
}

/** Answers an enforced denial; the default sends `denial.status` with `denial.body` as JSON. */
export type DenialHandler = (req: Request, res: Response, next: NextFunction, denial: Denial) => void;

export interface FormSecurityOptions extends GateOptions {
  /** Answers a `block` when the route enforces (default: 403 JSON). */
  readonly onBlock?: DenialHandler;
  /** Answers a `challenge` when the route enforces (default: 403 JSON `challenge_required`). */
  readonly onChallenge?: DenialHandler;
}

/** The middleware, with a way to derive route-level middleware sharing the same engine. */
export interface FormSecurityMiddleware extends RequestHandler {
  readonly engine: FormSecurity;
  /** Middleware for one route with other options (`enforce`, `require`, `budgetMs`, …). */
  route(options: RoutePolicy & Pick<FormSecurityOptions, 'onBlock' | 'onChallenge'>): FormSecurityMiddleware;
  /** The engine's health as JSON, for readiness probes: 200 when ok or degraded, 503 when down; 401 without the token. */
  healthCheck(options: StatusEndpointOptions): RequestHandler;
  /** The HTML status page, reloading itself; 401 without the token. */
  statusPage(options: StatusEndpointOptions): RequestHandler;
}

const sendDenial: DenialHandler = (_req, res, _next, denial) => {
  res.status(denial.status).json(denial.body);
};

type Answer = (request: StatusRequest) => Promise<StatusResponse>;

function answerWith(answer: Answer, req: Request, res: Response, next: NextFunction): void {
  answer({ url: req.originalUrl, headers: req.headers })
    .then(({ status, headers, body }) => {
      res.status(status).set(headers).send(body);
    })
    .catch(next);
}

function statusHandlers(engine: FormSecurity) {
  return {
    healthCheck(options: StatusEndpointOptions): RequestHandler {
      const { health } = createStatusEndpoints(engine, options);
      return function formSecurityHealth(req, res, next) {
        answerWith(health, req, res, next);
      };
    },
    statusPage(options: StatusEndpointOptions): RequestHandler {
      const { page } = createStatusEndpoints(engine, options);
      return function formSecurityStatusPage(req, res, next) {
        answerWith(page, req, res, next);
      };
    },
  };
}

function middlewareFor(gate: Gate, onBlock: DenialHandler, onChallenge: DenialHandler): FormSecurityMiddleware {
  // Defined once, not per request: a warm request allocates no closure here.
  const proceed = (req: Request, res: Response, next: NextFunction, { verdict, denial }: GateResult): void => {
    req.formSecurity = verdict;
    if (denial === undefined) return next();
    const answer = verdict.decision === 'challenge' ? onChallenge : onBlock;
    answer(req, res, next, denial);
  };
  const formSecurity = function formSecurity(req: Request, res: Response, next: NextFunction): void {
    if (!gate.applies(req.method)) return next();
    // A verdict that needed no waiting goes on in this turn; Express catches a throw here.
    const result = gate.checkNow({ remoteAddress: req.socket.remoteAddress, headers: req.headers, body: req.body });
    if (!(result instanceof Promise)) return proceed(req, res, next, result);
    // Express 4 does not catch rejected promises, so failures are handed to next() explicitly.
    result.then((settled) => proceed(req, res, next, settled)).catch(next);
  };
  return Object.assign(formSecurity, {
    engine: gate.engine,
    ...statusHandlers(gate.engine),
    route: (options: RoutePolicy & Pick<FormSecurityOptions, 'onBlock' | 'onChallenge'>) =>
      middlewareFor(gate.route(options), options.onBlock ?? onBlock, options.onChallenge ?? onChallenge),
  });
}

/**
 * Builds the middleware. Mount it after the body parser so e-mail and content can be
 * checked; options are validated now, so a wrong one fails at start-up.
 *
 * @example
 * import express from 'express';
 * import { formSecurity } from '@formsecurity/express';
 *
 * const app = express();
 * app.use(express.urlencoded({ extended: false }));
 * const guard = formSecurity({ subject: { trustProxy: 1 } });
 * app.use(guard);
 * app.post('/contact', (req, res) => res.json(req.formSecurity));
 * app.post('/signup', guard.route({ enforce: true }), (req, res) => res.send('welcome'));
 * // Off unless mounted; both ask for the token (Authorization: Bearer … or ?token=…).
 * app.get('/formsecurity/health', guard.healthCheck({ token: process.env.FORMSECURITY_STATUS_TOKEN! }));
 * app.get('/formsecurity/status', guard.statusPage({ token: process.env.FORMSECURITY_STATUS_TOKEN! }));
 */
export function formSecurity(options: FormSecurityOptions = {}): FormSecurityMiddleware {
  return middlewareFor(createGate(options), options.onBlock ?? sendDenial, options.onChallenge ?? sendDenial);
}

export type { Denial, Verdict } from '@formsecurity/core';
