/**
 * @formsecurity/core — the public entry. Adapters and providers import only from here.
 */
export * from './contracts.js';
export * from './errors.js';
export * from './subject/ip.js';
export { createFormSecurity } from './engine/create.js';
export type { EngineInternals, FormSecurity, FormSecurityConfig, ProviderRegistration } from './engine/create.js';
export { engineInternals } from './engine/create.js';
export { DEFAULT_THRESHOLDS, decide, stricter } from './engine/aggregate.js';
export type { Thresholds } from './engine/aggregate.js';
export { createSubjectExtractor } from './subject/extract.js';
export type { RequestView, SubjectExtractor, SubjectOptions } from './subject/extract.js';
export { createClientIpResolver } from './subject/proxy.js';
export type { ClientIpResolver, ClientIpResult, ForwardedHeader, TrustProxy } from './subject/proxy.js';
export { normalizeEmail } from './subject/email.js';
export { createGate, denialFor, pickPolicy } from './gate.js';
export type { Denial, Gate, GateOptions, GateResult } from './gate.js';
export * from './resilience/index.js';
export * from './quota/index.js';
export { defaultLogger, redactingLogger, silentLogger } from './log/logger.js';
export type { LogLevel, Logger } from './log/logger.js';
export { redact, redactText } from './log/redact.js';
export * from './cache/index.js';
export type { EngineEvent, EngineEventOf, EngineEventType, EngineListener } from './engine/events.js';
export type { Backends, ProviderBreakerOptions, ProviderQuotaOptions } from './engine/dependencies.js';
export type { ReportOutcome } from './pipeline/provider-pipeline.js';
export * from './health/index.js';
export * from './config/index.js';
