import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import type { ExternalContextCreator, ParamsFactory } from '@nestjs/core';
import { isObservable } from 'rxjs';
import type { HubCallerContext } from './hub-caller-context.js';
import type { HubInvocationContext } from './hub-invocation-context.js';
import { HUB_ARGUMENT_PARAM_TYPE, type HubMethodDescriptor } from './hub-method-explorer.js';
import { observableToAsyncIterable } from './observable-iterable.js';

/** Calls one hub method through Nest's guards, interceptors and pipes. */
export type HubInvoker = (caller: HubCallerContext, invocation: HubInvocationContext) => Promise<unknown>;

const hubParamsFactory: ParamsFactory = {
  exchangeKeyForValue(type, data, args: [HubCallerContext, HubInvocationContext]) {
    return type === HUB_ARGUMENT_PARAM_TYPE ? args[1].arguments[data as number] : undefined;
  },
};

export function createHubInvoker(
  contextCreator: ExternalContextCreator,
  hub: object,
  descriptor: HubMethodDescriptor,
): HubInvoker {
  const method = (hub as Record<string, (...args: unknown[]) => unknown>)[descriptor.methodName];
  const callback = descriptor.streaming ? keepStreamsIterable(method) : method;
  // Exceptions are left to the dispatcher (filters: false): it alone decides what a client may see.
  return contextCreator.create(
    hub,
    callback,
    descriptor.methodName,
    ROUTE_ARGS_METADATA,
    hubParamsFactory,
    undefined,
    undefined,
    { guards: true, interceptors: true, filters: false },
    'ws',
  );
}

const asIterable = (result: unknown) => (isObservable(result) ? observableToAsyncIterable(result) : result);

/**
 * Nest turns an Observable result into its last value, which would swallow a stream; the same
 * method returning an AsyncIterable passes through untouched. The wrapper carries the method's
 * metadata so that guards and interceptors reading it from the handler still find it.
 */
function keepStreamsIterable(method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
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
