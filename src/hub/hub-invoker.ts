import type { CanActivate } from '@nestjs/common';
import type { ExternalContextCreator, ParamsFactory } from '@nestjs/core';
import { isObservable } from 'rxjs';
import { HubAuthorizationGuard } from '../security/hub-authorization.guard.js';
import { createDirectInvoker } from './direct-invoker.js';
import type { HubCallerContext } from './hub-caller-context.js';
import type { HubInvocationContext } from './hub-invocation-context.js';
import type { HubMethodDescriptor } from './hub-method-explorer.js';
import { HubValidationPipe } from './hub-validation.pipe.js';
import { captureEnhancers, HUB_ARGUMENT_PARAM_TYPE, PARAMETER_METADATA_KEY, type ResolvedEnhancers } from './nest-internals.js';
import { observableToAsyncIterable } from './observable-iterable.js';

/** Calls one hub method through Nest's guards, interceptors and pipes. */
export type HubInvoker = (caller: HubCallerContext, invocation: HubInvocationContext) => Promise<unknown>;

export interface CreatedHubInvoker {
  readonly invoke: HubInvoker;
  /**
   * Every guard Nest resolved for the method (global, class, method), the package's own
   * included; undefined when Nest's internals hid them, so that nobody takes "none" for granted.
   */
  readonly guards: readonly CanActivate[] | undefined;
}

const hubParamsFactory: ParamsFactory = {
  exchangeKeyForValue(type, data, args: [HubCallerContext, HubInvocationContext]) {
    return type === HUB_ARGUMENT_PARAM_TYPE ? args[1].arguments[data as number] : undefined;
  },
};

/**
 * Nest's pipeline for the method, or, when everything it would run for this method is the
 * package's own guard and pipe with nothing to do (no authorization requirement, no argument
 * to validate) and nothing of the application's (global, class or method enhancers, custom
 * parameter decorators), a direct call: the pipeline's awaits are a large share of a small
 * invocation. Decided once, from what Nest itself resolved for the method.
 */
export function createHubInvoker(
  contextCreator: ExternalContextCreator,
  hub: object,
  hubClass: Function,
  descriptor: HubMethodDescriptor,
  observableCapacity: number,
): CreatedHubInvoker {
  const method = (hub as Record<string, (...args: unknown[]) => unknown>)[descriptor.methodName];
  const callback = descriptor.streaming ? keepStreamsIterable(method, observableCapacity) : method;
  // Exceptions are left to the dispatcher (filters: false): it alone decides what a client may see.
  const { built: pipeline, enhancers } = captureEnhancers(contextCreator, () =>
    contextCreator.create(
      hub,
      callback,
      descriptor.methodName,
      PARAMETER_METADATA_KEY,
      hubParamsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: false },
      'ws',
    ),
  );
  const direct = enhancers && doNothing(enhancers, hubClass, callback, descriptor) ? createDirectInvoker(hub, callback, hubClass, descriptor.methodName) : undefined;
  return { invoke: direct ?? pipeline, guards: enhancers?.guards };
}

/**
 * Every hub has the package's guard and pipe (`@Hub` adds them): a capture that did not see
 * them saw nothing of what Nest resolved, and must not lead to a direct call.
 */
function doNothing(enhancers: ResolvedEnhancers, hubClass: Function, callback: Function, descriptor: HubMethodDescriptor): boolean {
  return (
    enhancers.interceptors.length === 0 &&
    enhancers.parameterPipes.length === 0 &&
    onlyThese(enhancers.guards, (guard) => guard instanceof HubAuthorizationGuard && guard.alwaysAllows(hubClass, callback)) &&
    onlyThese(enhancers.pipes, (pipe) => pipe instanceof HubValidationPipe && descriptor.argumentTypes.every((type) => pipe.passesThrough(type)))
  );
}

const onlyThese = <T>(list: readonly T[], isThis: (item: T) => boolean): boolean => list.length > 0 && list.every(isThis);

/**
 * Nest turns an Observable result into its last value, which would swallow a stream; the same
 * method returning an AsyncIterable passes through untouched. The wrapper carries the method's
 * metadata so that guards and interceptors reading it from the handler still find it.
 */
function keepStreamsIterable(method: (...args: unknown[]) => unknown, observableCapacity: number): (...args: unknown[]) => unknown {
  const asIterable = (result: unknown) => (isObservable(result) ? observableToAsyncIterable(result, observableCapacity) : result);
  const wrapper = function (this: unknown, ...args: unknown[]) {
    const result = method.apply(this, args);
    return result instanceof Promise ? result.then(asIterable) : asIterable(result);
  };
  for (const key of Reflect.getMetadataKeys(method)) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, method), wrapper);
  }
  Object.defineProperty(wrapper, 'name', { value: method.name });
  return wrapper;
}
