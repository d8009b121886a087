/** Stable codes of the errors the library raises, listed in the README. */
export enum SignalRErrorCode {
  /** Hubs are provided but the application's WebSocket adapter is not `SignalRAdapter`. */
  AdapterMissing = 'SIGNALR_ADAPTER_MISSING',
  /** A hub, `forFeature` or the adapter is used without `SignalRModule.forRoot()` imported. */
  RootModuleMissing = 'SIGNALR_ROOT_MODULE_MISSING',
  HubNotProvided = 'SIGNALR_HUB_NOT_PROVIDED',
  DuplicateHubPath = 'SIGNALR_DUPLICATE_HUB_PATH',
  DuplicateHubMethod = 'SIGNALR_DUPLICATE_HUB_METHOD',
  InvalidHubDefinition = 'SIGNALR_INVALID_HUB_DEFINITION',
  ClientResultTimeout = 'SIGNALR_CLIENT_RESULT_TIMEOUT',
  ClientResultFailed = 'SIGNALR_CLIENT_RESULT_FAILED',
  ConnectionNotFound = 'SIGNALR_CONNECTION_NOT_FOUND',
  ConnectionClosed = 'SIGNALR_CONNECTION_CLOSED',
  /** Redis cannot be reached, so a command needing another node cannot be sent. */
  BackplaneUnavailable = 'SIGNALR_BACKPLANE_UNAVAILABLE',
  /** No node acknowledged a group command in time: the connection may not exist any more. */
  BackplaneAckTimeout = 'SIGNALR_BACKPLANE_ACK_TIMEOUT',
  /** The lifetime manager was disposed while the command was waiting. */
  BackplaneDisposed = 'SIGNALR_BACKPLANE_DISPOSED',
  /** A join would put a connection in more groups than `maximumGroupsPerConnection` allows. */
  TooManyGroups = 'SIGNALR_TOO_MANY_GROUPS',
  /** A module option has a value the library cannot use; raised at start-up. */
  InvalidOption = 'SIGNALR_INVALID_OPTION',
}

/**
 * Codes whose message is a client's own text, passed on as the client wrote it (as ASP.NET Core
 * surfaces it); the code is only a property.
 */
const CODES_OF_CLIENT_TEXT: ReadonlySet<SignalRErrorCode> = new Set([SignalRErrorCode.ClientResultFailed]);

export class SignalRError extends Error {
  override readonly name = 'SignalRError';
  /** The message without its code. */
  readonly reason: string;

  constructor(
    readonly code: SignalRErrorCode,
    reason: string,
  ) {
    super(CODES_OF_CLIENT_TEXT.has(code) ? reason : `${reason} (${code})`);
    this.reason = reason;
  }
}
