/**
 * @formsecurity/nest — FormSecurityModule, FormSecurityGuard and decorators, following
 * the conventions of @nestjs/throttler. The guard only translates: request in, verdict
 * attached or denial thrown.
 */
export { FormSecurityModule, FORM_SECURITY_MODULE_OPTIONS } from './module.js';
export type { FormSecurityModuleOptions } from './module.js';
export { FormSecurityGuard, FormSecurityException } from './guard.js';
export { FormSecurity, SkipFormSecurity, Verdict } from './decorators.js';
export { FORM_SECURITY_GATE } from './constants.js';
export { mountFormSecurityStatus } from './status.js';
export type { StatusMountOptions } from './status.js';
export type { Denial, RoutePolicy } from '@formsecurity/core';
