import { BadRequestException, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { HubException } from './hub-exception.js';
import { invocationErrors } from './invocation-errors.js';

/**
 * The only text of a failed invocation that reaches the client. Deliberate exceptions pass
 * their message; anything else becomes the generic text, and `isUnexpected` tells the caller
 * to log the real error server-side.
 */
export function clientErrorMessage(error: unknown, target: string): { message: string; isUnexpected: boolean } {
  if (error instanceof HubException) {
    return { message: invocationErrors.hubException(target, error.message), isUnexpected: false };
  }
  if (error instanceof WsException) {
    return { message: invocationErrors.hubException(target, wsExceptionText(error)), isUnexpected: false };
  }
  // Nest guards that deny throw ForbiddenException; an AuthGuard without identity throws Unauthorized.
  if (error instanceof ForbiddenException || error instanceof UnauthorizedException) {
    return { message: invocationErrors.unauthorized(target), isUnexpected: false };
  }
  if (error instanceof BadRequestException) {
    return { message: invocationErrors.hubException(target, badRequestText(error)), isUnexpected: false };
  }
  return { message: invocationErrors.unexpected(target), isUnexpected: true };
}

function wsExceptionText(error: WsException): string {
  const payload = error.getError();
  if (typeof payload === 'string') return payload;
  const message = (payload as { message?: unknown }).message;
  return typeof message === 'string' ? message : error.message;
}

/** Pipes (validation among them) report what was wrong with the arguments, never their values. */
function badRequestText(error: BadRequestException): string {
  const response = error.getResponse();
  const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : error.message;
}
