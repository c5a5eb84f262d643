import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { createGate } from '@formsecurity/core';
import type { GateOptions } from '@formsecurity/core';
import { FORM_SECURITY_GATE } from './constants.js';
import { FormSecurityGuard } from './guard.js';

/** The module's options: engine or engine config, subject extraction, default route policy. */
export type FormSecurityModuleOptions = GateOptions;

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<FormSecurityModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/**
 * Registers one FormSecurity engine for the application.
 *
 * @example
 * @Module({
 *   imports: [FormSecurityModule.forRoot({ config: { providers: [stopForumSpam()] }, subject: { trustProxy: 1 } })],
 *   providers: [{ provide: APP_GUARD, useClass: FormSecurityGuard }],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [
    {
      provide: FORM_SECURITY_GATE,
      useFactory: (options: FormSecurityModuleOptions) => createGate(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
    FormSecurityGuard,
  ],
  exports: [FORM_SECURITY_GATE, FormSecurityGuard],
})
export class FormSecurityModule extends ConfigurableModuleClass {}

export { MODULE_OPTIONS_TOKEN as FORM_SECURITY_MODULE_OPTIONS };
