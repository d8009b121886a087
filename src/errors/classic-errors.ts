/**
 * What the classic endpoint answers, in classic SignalR 2.x's words (its `Resources.resx`, two
 * spaces included), so that the jQuery client and the logs of teams moving off .NET see what they know.
 */
export const classicErrors = {
  unknownTransport: 'Protocol error: Unknown transport.',
  missingConnectionToken: 'Protocol error: Missing connection token.',
  badConnectionToken: 'The ConnectionId is in the incorrect format.',
  identityChanged: 'Unrecognized user identity.  The user identity cannot change during an active SignalR connection.',
  notWebSocketRequest: 'Not a valid web socket request.',
  /** 1.x's answer to a cross-domain request while cross domain was off; ours to JSONP while it is off. */
  jsonpDisabled: 'Forbidden: SignalR cross domain is disabled.',
  /** Ours: classic SignalR let a connection name no hub and skipped hub authorization then. */
  noHubs: 'Protocol error: connectionData names no hub.',
  unknownHub: (name: string) => `'${name}' Hub could not be resolved.`,
  badConnectionData: (reason: string) => `Protocol error: ${reason}`,
  /** Ours: the hubs of a connection are those it started with. */
  hubsChanged: 'Protocol error: connectionData differs from the connection\'s hubs.',
  unknownConnection: 'Protocol error: Unknown connection.',
  hubNotInConnection: (name: string) => `'${name}' Hub is not part of this connection.`,
  stateTooLarge: (limit: number) => `The hub state is larger than ${limit} characters.`,
  /** Ours: a method left something in the hub state that JSON cannot carry. */
  stateNotJson: 'The hub state cannot be written as JSON.',
  /** Ours: a hub that opted out (`classicState: false`) takes no state. */
  stateRefused: (hub: string) => `'${hub}' Hub does not accept hub state.`,
  /** Ours: the server asked a classic client for a result, which it cannot return. */
  noClientResults: 'Classic SignalR clients cannot return results.',
  /** Ours: the node shuts down; the client stops rather than reconnect to a server that is gone. */
  shuttingDown: 'The server is shutting down.',
  unreadableInvocation: 'Protocol error: the hub invocation could not be read.',
} as const;
