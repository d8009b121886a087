import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';

const SIGNALR_CODES = new Set<string>(Object.values(SignalRErrorCode));

export function isSignalRErrorCode(code: unknown): code is SignalRErrorCode {
  return typeof code === 'string' && SIGNALR_CODES.has(code);
}

/** An error one node describes to another, which rebuilds it: its message, and its code if it is one of ours. */
export interface RelayedError {
  readonly error: string;
  readonly code?: string;
}

export function describeError(error: unknown): RelayedError {
  // A SignalRError's message may end with its code, which the rebuilt error adds again.
  if (error instanceof SignalRError) return { error: error.reason, code: error.code };
  return { error: error instanceof Error ? error.message : String(error) };
}
