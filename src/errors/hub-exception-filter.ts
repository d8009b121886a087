import { HttpException, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import { ArgumentBindingError } from './argument-binding.error.js';
import { ArgumentValidationException } from './argument-validation.exception.js';
import { HubException } from './hub-exception.js';
import { invocationErrors } from './invocation-errors.js';
import { SignalRError, SignalRErrorCode } from './signalr-error-codes.js';

/**
 * Library refusals the caller caused and can act on, passed on as a HubException would be: they
 * name only a configured limit, and are not logged, since a client that repeats one could fill the log.
 */
const CALLER_FACING_CODES: ReadonlySet<SignalRErrorCode> = new Set([SignalRErrorCode.TooManyGroups]);

export interface HubErrorContext {
  readonly hubPath: string;
  /** The method name as the client sent it. */
  readonly target: string;
  readonly connectionId: string;
  readonly invocationId: string | undefined;
}

/**
 * Turns whatever a hub method (or its guards, pipes and interceptors) threw into the only text
 * the caller sees. Deliberate exceptions pass their message; everything else is logged in full
 * under an error id and reaches the client as the generic text, unless `detailedErrors` is on.
 * Nest's global filters never see WebSocket handlers, so this is the filter for every hub.
 */
export class HubExceptionFilter {
  private static readonly logger = new Logger('SignalR:Errors');

  constructor(private readonly detailedErrors: boolean) {}

  catch(error: unknown, context: HubErrorContext): string {
    const { target } = context;
    if (error instanceof HubException) return invocationErrors.hubException(target, error.message);
    if (error instanceof WsException) return invocationErrors.hubException(target, wsExceptionText(error));
    if (error instanceof SignalRError && CALLER_FACING_CODES.has(error.code)) return invocationErrors.hubException(target, error.message);
    if (error instanceof ArgumentValidationException) return invocationErrors.invalidArguments(target, error.describe());
    if (error instanceof ArgumentBindingError) return this.detailed(invocationErrors.bindingFailed(target), error);
    if (error instanceof HttpException) {
      const status = error.getStatus();
      // Guards deny with 403 (and an AuthGuard without identity with 401).
      if (status === 401 || status === 403) return invocationErrors.unauthorized(target);
      if (status === 400) return this.detailed(invocationErrors.bindingFailed(target), error);
    }
    const errorId = randomUUID();
    HubExceptionFilter.logger.error(
      `Hub method ${context.hubPath}#${target} failed (error id ${errorId}, connection ${context.connectionId}, invocation ${context.invocationId ?? 'none'})`,
      error instanceof Error ? error.stack : String(error),
    );
    return this.detailed(invocationErrors.unexpected(target), error);
  }

  /** ASP.NET Core's detailed form: the generic text, then the error's name and message. */
  private detailed(text: string, error: unknown): string {
    if (!this.detailedErrors) return text;
    return error instanceof Error ? `${text} ${error.name}: ${error.message}` : `${text} ${String(error)}`;
  }
}

function wsExceptionText(error: WsException): string {
  const payload = error.getError();
  if (typeof payload === 'string') return payload;
  const message = (payload as { message?: unknown }).message;
  return typeof message === 'string' ? message : error.message;
}
