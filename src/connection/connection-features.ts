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
}

export interface ConnectionIdentity {
  readonly user: unknown;
  readonly userIdentifier: string | undefined;
  /** Epoch milliseconds at which the credential expires and the connection must close. */
  readonly expiresAt: number | undefined;
  /** The request that brought the connection's current socket, whose user this is. */
  readonly request: ConnectionRequest;
}
