import { HttpException } from '@nestjs/common';
import { ArgumentBindingError } from '../errors/argument-binding.error.js';
import { ArgumentValidationException } from '../errors/argument-validation.exception.js';
import { OTHER_VALUE } from './telemetry-names.js';

/** `signalr.invocation.outcome`'s values. */
export type InvocationOutcome = 'ok' | 'hub_error' | 'refused' | 'validation';

/**
 * What a failed invocation's error says of it, read as the hub exception filter reads it: guards
 * refuse with 401 or 403, arguments fail with the validation and binding errors (or a 400 from a
 * pipe); anything else the method (or its interceptors) threw is the hub's own error.
 */
export function outcomeOf(error: unknown): InvocationOutcome {
  if (error instanceof ArgumentValidationException || error instanceof ArgumentBindingError) return 'validation';
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 401 || status === 403) return 'refused';
    if (status === 400) return 'validation';
  }
  return 'hub_error';
}

/** `error.type`: the class of what was thrown, as ASP.NET Core gives the exception's type. */
export function errorTypeOf(error: unknown): string {
  if (error instanceof Error) return error.constructor.name || error.name;
  return OTHER_VALUE;
}
