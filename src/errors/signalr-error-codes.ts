/** Stable codes of the errors the library raises, listed in the README. */
export enum SignalRErrorCode {
  AdapterMissing = 'SIGNALR_ADAPTER_MISSING',
  HubNotProvided = 'SIGNALR_HUB_NOT_PROVIDED',
  DuplicateHubPath = 'SIGNALR_DUPLICATE_HUB_PATH',
  DuplicateHubMethod = 'SIGNALR_DUPLICATE_HUB_METHOD',
  InvalidHubDefinition = 'SIGNALR_INVALID_HUB_DEFINITION',
  ClientResultTimeout = 'SIGNALR_CLIENT_RESULT_TIMEOUT',
  ClientResultFailed = 'SIGNALR_CLIENT_RESULT_FAILED',
  ConnectionNotFound = 'SIGNALR_CONNECTION_NOT_FOUND',
  ConnectionClosed = 'SIGNALR_CONNECTION_CLOSED',
}

export class SignalRError extends Error {
  override readonly name = 'SignalRError';
  constructor(
    readonly code: SignalRErrorCode,
    message: string,
  ) {
    super(`${message} (${code})`);
  }
}
