/** Injection token of the shared request gate (engine, extractor, default policy). */
export const FORM_SECURITY_GATE = Symbol.for('formsecurity.nest.gate');
/** Metadata key of `@FormSecurity({...})` route options. */
export const FORM_SECURITY_OPTIONS = 'formsecurity:route-options';
/** Metadata key of `@SkipFormSecurity()`. */
export const FORM_SECURITY_SKIP = 'formsecurity:skip';
