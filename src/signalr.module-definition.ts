import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SignalRModuleOptions } from './options/signalr-module-options.js';

export const {
  ConfigurableModuleClass: SignalRConfigurableModule,
  MODULE_OPTIONS_TOKEN: SIGNALR_MODULE_OPTIONS,
  OPTIONS_TYPE: SIGNALR_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SIGNALR_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SignalRModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
