import { SetMetadata, createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { RoutePolicy, Verdict as VerdictType } from '@formsecurity/core';
import { FORM_SECURITY_OPTIONS, FORM_SECURITY_SKIP } from './constants.js';

/**
 * Route options for a handler or a whole controller (the handler's win).
 *
 * @example
 * @Post('signup') @FormSecurity({ enforce: true, require: ['stopforumspam'] }) signup() {}
 */
export const FormSecurity = (options: RoutePolicy): MethodDecorator & ClassDecorator =>
  SetMetadata(FORM_SECURITY_OPTIONS, options);

/**
 * Leaves a handler or controller unchecked.
 *
 * @example
 * @Post('webhook') @SkipFormSecurity() webhook() {}
 */
export const SkipFormSecurity = (skip = true): MethodDecorator & ClassDecorator => SetMetadata(FORM_SECURITY_SKIP, skip);

/**
 * Injects the request's verdict into a handler parameter.
 *
 * @example
 * @Post('contact') contact(@Verdict() verdict: Verdict) { return verdict.decision; }
 */
export const Verdict = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerdictType | undefined =>
    context.switchToHttp().getRequest<{ formSecurity?: VerdictType }>().formSecurity,
);

/** The verdict's type under the decorator's name, so `@Verdict() verdict: Verdict` reads naturally. */
export type Verdict = VerdictType;
