import type { Provider } from '@nestjs/common';
import type { SignalRModuleOptions } from '../options/signalr-module-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../signalr.module-definition.js';
import { PassportAuthenticator } from './passport-authenticator.js';

/** `null` when no strategy is configured: every connection is then anonymous. */
export const PASSPORT_AUTHENTICATOR = Symbol('PassportAuthenticator');

export const passportAuthenticatorProvider: Provider = {
  provide: PASSPORT_AUTHENTICATOR,
  useFactory: async (options: SignalRModuleOptions) =>
    options.authStrategies?.length ? PassportAuthenticator.create([...options.authStrategies]) : null,
  inject: [SIGNALR_MODULE_OPTIONS],
};
