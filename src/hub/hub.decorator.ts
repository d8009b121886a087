import { Injectable, applyDecorators, SetMetadata } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import { checkHubOptions, type HubOptions } from '../options/hub-options.js';
import { describeValue } from '../options/option-rules.js';
import { HubAuthorizationGuard } from '../security/hub-authorization.guard.js';
import { HubValidationPipe } from './hub-validation.pipe.js';
import { HUB_METADATA, type HubGatewayOptions, type HubMetadata } from './hub-metadata.js';
import { addFirstClassGuard, addFirstClassPipe } from './nest-internals.js';

/** A hub's options, and what only a hub (not the module) can set. */
export interface HubDecoratorOptions extends HubOptions {
  /**
   * The hub's name on the classic endpoint (the jQuery client's `createHubProxy(name)`), matched
   * case-insensitively.
   * @default the class name, as classic SignalR names hubs
   */
  readonly classicName?: string;
  /**
   * Take a classic client's hub state (`S`, the proxy's `state`) and show it to methods through
   * `@ClassicState()`. False: an invocation carrying state is answered with an error, for a hub
   * that wants nothing a client can set beside its arguments.
   * @default true
   */
  readonly classicState?: boolean;
}

/**
 * Marks a class as a SignalR hub served at `path`. Its public methods are callable by the
 * official clients under their own names (case-insensitively), or a name set with `@HubMethod`.
 *
 * The hub is a Nest gateway underneath, so `SignalRAdapter` must be the application's
 * WebSocket adapter and the hub must be listed in a module's `providers`.
 */
export function Hub(path: string, options: HubDecoratorOptions = {}): ClassDecorator {
  // Plain JavaScript and decorators applied by hand reach here with anything.
  if (typeof path !== 'string') {
    throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `@Hub needs the hub's path as its first argument, as in @Hub('/hubs/chat'); got ${describeValue(path)}.`);
  }
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('?')) {
    throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `@Hub path must start with '/' and have no trailing '/' or query: '${path}'.`);
  }
  const { classicName, classicState, ...hubOptions } = options;
  if (classicName !== undefined && (typeof classicName !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(classicName))) {
    throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `@Hub('${path}') classicName must be an identifier, as a jQuery hub proxy's name is; got ${describeValue(classicName)}.`);
  }
  if (classicState !== undefined && typeof classicState !== 'boolean') {
    throw new SignalRError(SignalRErrorCode.InvalidHubDefinition, `@Hub('${path}') classicState must be a boolean; got ${describeValue(classicState)}.`);
  }
  checkHubOptions(path, hubOptions);
  const metadata: HubMetadata = { path, options: hubOptions, classicName, classicState };
  return (target) => {
    const gatewayOptions: HubGatewayOptions = { path, signalrHub: target as unknown as HubGatewayOptions['signalrHub'] };
    applyDecorators(Injectable(), SetMetadata(HUB_METADATA, metadata), WebSocketGateway(gatewayOptions))(target);
    // Authorization runs before the hub's own guards (class and method ones); validation likewise.
    addFirstClassGuard(target, HubAuthorizationGuard);
    addFirstClassPipe(target, HubValidationPipe);
  };
}
