import { Logger, type Provider } from '@nestjs/common';
import { KEY_GENERATION_COMMAND, type SignalRModuleOptions } from '../options/signalr-module-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../signalr.module-definition.js';
import { keyRingOf } from './key-ring.js';
import { TokenService } from './token-service.js';

const DEVELOPMENT_ENVIRONMENTS: ReadonlySet<string | undefined> = new Set(['development', 'test']);

/**
 * Builds the key ring from the options. Outside development a missing key is a start-up error:
 * a key made at random would break every token at the next restart and on every other node.
 */
export function createTokenService(options: SignalRModuleOptions, environment = process.env.NODE_ENV): TokenService {
  if (options.keys?.length) return new TokenService(keyRingOf(options.keys));
  if (!DEVELOPMENT_ENVIRONMENTS.has(environment)) {
    throw new Error(
      'nestjs-signalr: no key to seal connection tokens. Set the `keys` option to one or more 32-byte keys ' +
        `(make one with \`${KEY_GENERATION_COMMAND}\`). ` +
        'Only NODE_ENV=development or test makes a temporary key.',
    );
  }
  new Logger('SignalR:Security').warn(
    'No `keys` option: using a random key for this process only. Tokens will not survive a restart or work across nodes.',
  );
  return new TokenService([TokenService.generateKey()]);
}

export const tokenServiceProvider: Provider = {
  provide: TokenService,
  useFactory: (options: SignalRModuleOptions) => createTokenService(options),
  inject: [SIGNALR_MODULE_OPTIONS],
};
