import { isObservable, lastValueFrom } from 'rxjs';
import type { HubCallerContext } from './hub-caller-context.js';
import type { HubInvocationContext } from './hub-invocation-context.js';
import { DIRECT_PARAMETER_VALUES } from './hub-param.decorators.js';
import { HUB_ARGUMENT_PARAM_TYPE, recordedParameters, type RecordedParameter } from './nest-internals.js';

type Invoke = (caller: HubCallerContext, invocation: HubInvocationContext) => Promise<unknown>;
type ParameterValue = (caller: HubCallerContext, invocation: HubInvocationContext) => unknown;

/**
 * Calls a hub method the way Nest's external context does when it has no guard, interceptor or
 * pipe to run: the same arguments in the same places, an Observable result turned into its last
 * value, every failure a rejection. Returns undefined when a parameter needs something only
 * Nest's pipeline provides (a custom decorator of the application's own).
 */
export function createDirectInvoker(hub: object, callback: (...args: unknown[]) => unknown, hubClass: Function, methodName: string): Invoke | undefined {
  const values: { index: number; value: ParameterValue }[] = [];
  for (const parameter of recordedParameters(hubClass, methodName)) {
    const value = parameter.custom ? customValue(parameter.factory, parameter.data) : builtInValue(parameter);
    if (!value) return undefined;
    values.push({ index: parameter.index, value });
  }
  // Nest passes its own two arguments to a method without parameter metadata, and fills the
  // gaps of one with it: the same here, so that the method sees no difference.
  if (values.length === 0) {
    return async (caller, invocation) => settle(await callback.call(hub, caller, invocation));
  }
  const byPosition: ParameterValue[] = Array.from({ length: Math.max(...values.map((entry) => entry.index)) + 1 }, () => nothing);
  for (const { index, value } of values) byPosition[index] = value;
  return async (caller, invocation) => {
    const args: unknown[] = [];
    for (let i = 0; i < byPosition.length; i++) args.push(byPosition[i](caller, invocation));
    return settle(await callback.apply(hub, args));
  };
}

function builtInValue({ type, data }: Extract<RecordedParameter, { custom: false }>): ParameterValue {
  if (type !== HUB_ARGUMENT_PARAM_TYPE) return nothing;
  const position = data as number;
  return (_, invocation) => invocation.arguments[position];
}

function customValue(factory: Function | undefined, data: unknown): ParameterValue | undefined {
  const direct = factory && DIRECT_PARAMETER_VALUES.get(factory);
  return direct && ((caller, invocation) => direct(caller, invocation, data));
}

const nothing: ParameterValue = () => undefined;

const settle = (result: unknown): unknown => (isObservable(result) ? lastValueFrom(result) : result);
