import { ConfigurableModuleBuilder, type DynamicModule, type Provider } from '@nestjs/common';
import { checkModuleOptions } from './module-options-check.js';
import type { SignalRModuleOptions } from './options/signalr-module-options.js';

/** The options as `forRoot` was given them (or `forRootAsync`'s factory made them), before their check. */
const GIVEN_OPTIONS = Symbol('SignalRModuleOptions (as given)');

export const {
  ConfigurableModuleClass: SignalRConfigurableModule,
  MODULE_OPTIONS_TOKEN: SIGNALR_MODULE_OPTIONS,
  OPTIONS_TYPE: SIGNALR_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SIGNALR_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SignalRModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...withCheckedOptions(definition), global: extras.isGlobal }))
  .build();

/**
 * Every consumer of the options gets them checked, once, before any of them is built: the
 * provider Nest's builder made for them is renamed, and the checked options are made from it.
 */
function withCheckedOptions(definition: DynamicModule): DynamicModule {
  const providers = (definition.providers ?? []).map((provider): Provider =>
    typeof provider === 'object' && 'provide' in provider && provider.provide === SIGNALR_MODULE_OPTIONS ? { ...provider, provide: GIVEN_OPTIONS } : provider,
  );
  return {
    ...definition,
    providers: [...providers, { provide: SIGNALR_MODULE_OPTIONS, useFactory: checkModuleOptions, inject: [GIVEN_OPTIONS] }],
  };
}
