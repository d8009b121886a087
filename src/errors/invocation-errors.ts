/**
 * The texts a client sees when an invocation fails. They match ASP.NET Core's word for word,
 * because client code and tests compare them.
 */
export const invocationErrors = {
  methodNotFound: (target: string) =>
    `Failed to invoke '${target}' due to an error on the server. HubException: Method does not exist.`,
  bindingFailed: (target: string) => `Failed to invoke '${target}' due to an error on the server.`,
  unexpected: (target: string) => `An unexpected error occurred invoking '${target}' on the server.`,
  hubException: (target: string, message: string) =>
    `An unexpected error occurred invoking '${target}' on the server. HubException: ${message}`,
  invalidArguments: (target: string, violations: string) =>
    `Failed to invoke '${target}' due to an error on the server. Invalid arguments: ${violations}.`,
  unauthorized: (target: string) => `Failed to invoke '${target}' because user is unauthorized`,
  streamingMethodCalledAsNonStreaming: (target: string) =>
    `The client attempted to invoke the streaming '${target}' method with a non-streaming invocation.`,
  nonStreamingMethodCalledAsStreaming: (target: string) =>
    `The client attempted to invoke the non-streaming '${target}' method with a streaming invocation.`,
  invocationIdInUse: (invocationId: string) =>
    `Invocation ID '${invocationId}' is already in use.`,
  streamCanceled: () => 'Invocation canceled by the server.',
  tooManyStreams: (target: string, limit: number) =>
    `Failed to invoke '${target}' because the client may have at most ${limit} streams open at once.`,
  observableOverflow: (limit: number) =>
    `The stream ended: its Observable had ${limit} items waiting for a client that did not read them.`,
} as const;

/** Close texts, also as ASP.NET Core words them. */
export const closeErrors = {
  generic: 'Connection closed with an error.',
  /** Ours: ASP.NET Core has no such limit, it makes the sender wait instead. */
  slowConsumer: 'Connection closed because the client did not read the messages sent to it fast enough.',
  /** Ours: ASP.NET Core refuses such a refresh and keeps the connection. */
  authorizationRevoked: 'Connection closed: the hub no longer authorizes its user.',
  handshakeCanceled: 'Handshake was canceled.',
  handshakeUnexpected: 'An unexpected error occurred during connection handshake.',
  unsupportedProtocol: (name: string) => `The protocol '${name}' is not supported.`,
  unsupportedVersion: (name: string, version: number) =>
    `The server does not support version ${version} of the '${name}' protocol.`,
  unsupportedTransferFormat: (name: string, transferFormat: string) =>
    `Cannot use the '${name}' protocol on the current transport. The transport does not support '${transferFormat}' transfer format.`,
} as const;
