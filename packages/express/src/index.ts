/**
 * @formsecurity/express — `app.use(formSecurity())` attaches a verdict to `req` before
 * the route handler runs. The adapter only translates: request in, verdict or answer out.
 */
import { createGate } from '@formsecurity/core';
import type { Denial, FormSecurity, Gate, GateOptions, RoutePolicy, Verdict } from '@formsecurity/core';
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
}

const sendDenial: DenialHandler = (_req, res, _next, denial) => {
  res.status(denial.status).json(denial.body);
};

function middlewareFor(gate: Gate, onBlock: DenialHandler, onChallenge: DenialHandler): FormSecurityMiddleware {
  const formSecurity = function formSecurity(req: Request, res: Response, next: NextFunction): void {
    if (!gate.applies(req.method)) return next();
    // Express 4 does not catch rejected promises, so failures are handed to next() explicitly.
    gate
      .check({ remoteAddress: req.socket.remoteAddress, headers: req.headers, body: req.body })
      .then(({ verdict, denial }) => {
        req.formSecurity = verdict;
        if (denial === undefined) return next();
        const answer = verdict.decision === 'challenge' ? onChallenge : onBlock;
        answer(req, res, next, denial);
      })
      .catch(next);
  };
  return Object.assign(formSecurity, {
    engine: gate.engine,
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
 */
export function formSecurity(options: FormSecurityOptions = {}): FormSecurityMiddleware {
  return middlewareFor(createGate(options), options.onBlock ?? sendDenial, options.onChallenge ?? sendDenial);
}

export type { Denial, Verdict } from '@formsecurity/core';
