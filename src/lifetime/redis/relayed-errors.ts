import { SignalRErrorCode } from '../../errors/signalr-error-codes.js';

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
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (!isSignalRErrorCode(code)) return { error: message };
  // SignalRError appends the code to the message; it is appended again when rebuilt.
  const suffix = ` (${code})`;
  return { error: message.endsWith(suffix) ? message.slice(0, -suffix.length) : message, code };
}
