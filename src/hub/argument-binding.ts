import { ArgumentBindingError } from '../errors/argument-binding.error.js';
import type { HubMethodDescriptor } from './hub-method-explorer.js';

const PRIMITIVE_CHECKS = new Map<unknown, (value: unknown) => boolean>([
  [String, (value) => typeof value === 'string'],
  [Number, (value) => typeof value === 'number'],
  [Boolean, (value) => typeof value === 'boolean'],
  [Array, (value) => Array.isArray(value)],
]);

/**
 * Checks an invocation against the method's declared parameters before anything runs: the count,
 * the upload streams, and the JSON kind of each argument where TypeScript recorded a type
 * (a class type must receive an object; `null` is accepted anywhere, as for nullable types).
 */
export function bindingError(descriptor: HubMethodDescriptor, args: readonly unknown[], streamIds: readonly string[]): ArgumentBindingError | undefined {
  if (args.length !== descriptor.argumentCount) {
    return new ArgumentBindingError(`Invocation provides ${args.length} argument(s) but target expects ${descriptor.argumentCount}.`);
  }
  if (streamIds.length !== descriptor.uploadStreams.length) {
    return new ArgumentBindingError(`Invocation provides ${streamIds.length} stream(s) but target expects ${descriptor.uploadStreams.length}.`);
  }
  for (let position = 0; position < args.length; position++) {
    const declared = descriptor.argumentTypes[position];
    const value = args[position];
    if (value === null || declared === undefined || declared === Object) continue;
    const check = PRIMITIVE_CHECKS.get(declared);
    const matches = check ? check(value) : typeof value === 'object' && !Array.isArray(value);
    if (!matches) return new ArgumentBindingError(`Argument ${position} does not match the declared type ${(declared as Function).name}.`);
  }
  return undefined;
}
