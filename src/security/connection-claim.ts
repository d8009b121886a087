import type { ConnectionTokenClaims } from './connection-tokens.js';
import type { GroupsTokenClaims, GroupsTokens } from './groups-tokens.js';
import { refusal, type Refusal } from './hub-gatekeeper.js';

/** Classic SignalR's words, kept so that clients and logs recognize the case. */
export const IDENTITY_CHANGED = 'The user identity cannot change during an active connection.';

const UNKNOWN_CONNECTION = 'No Connection with that ID';

export interface ClaimRules {
  readonly hubPath: string;
  /** How long after negotiate a token may open its socket. */
  readonly unusedLifetimeMs: number;
  /** Whether this node holds the connection and it waits for its client to come back (stateful reconnect). */
  readonly isResumable: (connectionId: string) => boolean;
  /** Whether this node holds the connection on a socket now. */
  readonly isLive: (connectionId: string) => boolean;
}

/**
 * Checks a connection token presented on upgrade (opened: `undefined` when it was not authentic)
 * against who is presenting it. Anything not
 * issued by us for this hub is unknown (404), as is a token past its use; a token of another
 * user is refused (403) even when authentic. The checks run again on every reconnect. What other
 * nodes know (ended or live elsewhere) is the connection registry's to add.
 */
export function claimConnection(
  claims: ConnectionTokenClaims | undefined,
  userKey: string | undefined,
  rules: ClaimRules,
  now = Date.now(),
): { connectionId: string; issuedAt: number } | Refusal {
  if (!claims || claims.hubPath !== rules.hubPath) return refusal(404, UNKNOWN_CONNECTION);
  if (claims.userKey !== userKey) return refusal(403, IDENTITY_CHANGED);
  // A reconnecting client presents the token it negotiated long ago: liveness, not age, counts.
  if (rules.isResumable(claims.connectionId)) return { connectionId: claims.connectionId, issuedAt: claims.issuedAt };
  if (rules.isLive(claims.connectionId)) return refusal(409, 'Connection ID already in use');
  if (claims.issuedAt + rules.unusedLifetimeMs <= now) return refusal(404, UNKNOWN_CONNECTION);
  return { connectionId: claims.connectionId, issuedAt: claims.issuedAt };
}

/** Why a resumption was refused, for the log; the client only learns the status. */
export type ResumptionRefusal = Refusal & { readonly reason: string };

/**
 * Checks a stateful reconnect to a node that does not hold the connection (it restarted, or
 * another node held it). Both tokens must be authentic and agree: the connection token names the
 * connection and its user, and an unexpired groups token, sealed for that same connection, user
 * and hub, proves the client held it recently. Whether the connection ended is the registry's to say.
 */
export function claimResumption(
  connection: ConnectionTokenClaims | undefined,
  groupsToken: string,
  userKey: string | undefined,
  rules: Pick<ClaimRules, 'hubPath'> & { readonly groupsTokens: GroupsTokens },
  now = Date.now(),
): GroupsTokenClaims | ResumptionRefusal {
  if (!connection || connection.hubPath !== rules.hubPath) return refused(404, UNKNOWN_CONNECTION, 'connection token refused');
  if (connection.userKey !== userKey) return refused(403, IDENTITY_CHANGED, 'connection token of another user');
  const groups = rules.groupsTokens.open(groupsToken);
  if (!groups) return refused(404, UNKNOWN_CONNECTION, 'groups token not authentic');
  if (groups.hubPath !== rules.hubPath) return refused(404, UNKNOWN_CONNECTION, 'groups token of another hub');
  if (groups.userKey !== userKey) return refused(403, IDENTITY_CHANGED, 'groups token of another user');
  if (groups.connectionId !== connection.connectionId) return refused(404, UNKNOWN_CONNECTION, 'groups token of another connection');
  if (groups.expiresAt <= now) return refused(404, UNKNOWN_CONNECTION, 'groups token expired');
  return groups;
}

function refused(status: number, body: string, reason: string): ResumptionRefusal {
  return { ...refusal(status, body), reason };
}
