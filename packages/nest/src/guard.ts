import { HttpException, Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Denial, Gate, GateResult, RequestView, RoutePolicy, Verdict } from '@formsecurity/core';
import { FORM_SECURITY_GATE, FORM_SECURITY_OPTIONS, FORM_SECURITY_SKIP } from './constants.js';

/** Thrown for an enforced `block` or `challenge`; Nest answers it with `denial.status` and body. */
export class FormSecurityException extends HttpException {
  constructor(readonly denial: Denial) {
    super(denial.body, denial.status);
  }
}

/** The request shape of Express and Fastify platforms, as far as the guard reads it. */
interface PlatformRequest {
  method?: string;
  headers: RequestView['headers'];
  body?: unknown;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
  formSecurity?: Verdict;
}

/**
 * Evaluates each HTTP submission and attaches the verdict as `request.formSecurity`.
 * Non-HTTP contexts (RPC, WebSockets) pass through. Override the protected hooks to
 * change how the request is read or how a denial is answered.
 *
 * @example
 * providers: [{ provide: APP_GUARD, useClass: FormSecurityGuard }]
 */
@Injectable()
export class FormSecurityGuard implements CanActivate {
  private readonly routeGates = new WeakMap<RoutePolicy, Gate>();

  constructor(
    @Inject(FORM_SECURITY_GATE) protected readonly gate: Gate,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {}

  /** Synchronous when the verdict needed no waiting (every answer cached or local). */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(FORM_SECURITY_SKIP, targets)) return true;
    const request = context.switchToHttp().getRequest<PlatformRequest>();
    const gate = this.gateFor(this.reflector.getAllAndOverride<RoutePolicy | undefined>(FORM_SECURITY_OPTIONS, targets));
    if (!gate.applies(request.method)) return true;
    const result = gate.checkNow(this.getRequestView(request));
    // No closure for a verdict that needed no waiting, the common case.
    return result instanceof Promise ? result.then((settled) => this.admit(request, settled, context)) : this.admit(request, result, context);
  }

  private admit(request: PlatformRequest, { verdict, denial }: GateResult, context: ExecutionContext): boolean {
    request.formSecurity = verdict;
    if (denial !== undefined) this.onDenial(denial, verdict, context);
    return true;
  }

  /** How the request becomes the core's framework-neutral view. */
  protected getRequestView(request: PlatformRequest): RequestView {
    const remoteAddress = request.socket?.remoteAddress ?? request.raw?.socket?.remoteAddress;
    return { remoteAddress, headers: request.headers, body: request.body };
  }

  /** Answers an enforced denial; the default throws FormSecurityException (403 JSON). */
  protected onDenial(denial: Denial, _verdict: Verdict, _context: ExecutionContext): never {
    throw new FormSecurityException(denial);
  }

  private gateFor(options: RoutePolicy | undefined): Gate {
    if (options === undefined) return this.gate;
    let gate = this.routeGates.get(options);
    if (gate === undefined) {
      gate = this.gate.route(options);
      this.routeGates.set(options, gate);
    }
    return gate;
  }
}
