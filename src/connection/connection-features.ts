import type { ConnectionRequest } from '../hub/connection-request.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';

/** A connection resumed on a node that lost its state: no handshake, numbering from the client's count. */
export interface Takeover {
  readonly protocol: HubProtocol;
  readonly receivedByClient: number;
  /** Where membership versions go on from, so that the client's older tokens stay older. */
  readonly membershipVersion: number;
}

export interface ConnectionFeatures {
  /** The client opted in to groups tokens (the client extension asks on its hub URL). */
  readonly groupsTokens: boolean;
  readonly takeover?: Takeover;
  /** The transport carries text only (Server-Sent Events): a binary protocol is refused at the handshake. */
  readonly textOnly?: boolean;
  /**
   * False when the transport cannot carry stateful reconnect: only a WebSocket can be replaced by
   * a new one (the official client asks for it over WebSockets only).
   */
  readonly statefulReconnect?: boolean;
  /**
   * The transport shows by itself that the client is there (long polling: a poll within the
   * disconnect timeout), so neither side pings and the client's silence does not count.
   */
  readonly inherentKeepAlive?: boolean;
  /** Told of every change of the connection's groups (the classic endpoint's groups token). */
  readonly membershipObserver?: (groupName: string, member: boolean) => void;
  /** Present on a classic (2.x) client's connection: what its calls carry beyond the modern protocol. */
  readonly classicCalls?: ClassicCalls;
}

/**
 * What a classic client's invocations carry that modern messages cannot: the caller's hub state
 * (`S`), which the method may read and change, and a HubException's data (`D`) on the way back.
 */
export interface ClassicCalls {
  /** The caller's state for one of its invocations, changed in place; undefined when the hub takes none. */
  stateOf(invocationId: string): Record<string, unknown> | undefined;
  /** What one of its invocations threw, just before its Completion is written. */
  failed(invocationId: string, error: unknown): void;
}

export interface ConnectionIdentity {
  readonly user: unknown;
  readonly userIdentifier: string | undefined;
  /** Epoch milliseconds at which the credential expires and the connection must close. */
  readonly expiresAt: number | undefined;
  /** The request that brought the connection's current socket, whose user this is. */
  readonly request: ConnectionRequest;
}
