import { transportErrors } from '../errors/transport-errors.js';
import type { TransportName } from '../options/hub-options.js';
import type { ConnectionTokenClaims } from './connection-tokens.js';
import type { GroupsTokenClaims, GroupsTokens } from './groups-tokens.js';
import { refusal, type Refusal } from './hub-gatekeeper.js';

/** Classic SignalR's words, kept so that clients and logs recognize the case. */
export const IDENTITY_CHANGED = 'The user identity cannot change during an active connection.';

/** ASP.NET Core's words for an id it does not know, and for one that has its transport already. */
export const UNKNOWN_CONNECTION = 'No Connection with that ID';
export const CONNECTION_IN_USE = 'Connection ID already in use';

export interface ClaimRules {
  readonly hubPath: string;
  /** How long after negotiate a token may open its socket. */
  readonly unusedLifetimeMs: number;
  /** Whether this node holds the connection and it waits for its client to come back (stateful reconnect). */
  readonly isResumable: (connectionId: string) => boolean;
  /** The transport of the connection this node holds under that id now, if it holds one. */
  readonly liveTransport: (connectionId: string) => TransportName | undefined;
  /** The transport the token is presented on. */
  readonly transport: TransportName;
}

/** What a connection token names, once it passed the checks. */
export interface ClaimedConnection {
  readonly connectionId: string;
  readonly issuedAt: number;
}

/**
 * Checks a connection token presented with a request (opened: `undefined` when it was not
 * authentic) against who is presenting it: anything not issued by us for this hub is unknown
 * (404); a token of another user is refused (403) even when authentic. Every request of a
 * connection passes this, whatever its transport; whether the token may still open a
 * connection is `claimConnection`'s to add.
 */
export function claimRequest(claims: ConnectionTokenClaims | undefined, userKey: string | undefined, hubPath: string): ClaimedConnection | Refusal {
  if (!claims || claims.hubPath !== hubPath) return refusal(404, UNKNOWN_CONNECTION);
  if (claims.userKey !== userKey) return refusal(403, IDENTITY_CHANGED);
  return { connectionId: claims.connectionId, issuedAt: claims.issuedAt };
}

/**
 * Checks a connection token presented on upgrade as `claimRequest` does, and whether it may open
 * (or, stateful, reconnect) its connection: a token past its use is unknown (404), and a
 * connection with a socket on another transport cannot change it (400). The checks run again on
 * every reconnect. Whether the id is live (409) or ended, here or on another node, is the
 * connection registry's to say: it is asked next, and answering that twice would only hide either answer.
 */
export function claimConnection(
  claims: ConnectionTokenClaims | undefined,
  userKey: string | undefined,
  rules: ClaimRules,
  now = Date.now(),
): ClaimedConnection | Refusal {
  const claimed = claimRequest(claims, userKey, rules.hubPath);
  if ('admitted' in claimed) return claimed;
  // A reconnecting client presents the token it negotiated long ago: liveness, not age, counts.
  if (rules.isResumable(claimed.connectionId)) return claimed;
  const live = rules.liveTransport(claimed.connectionId);
  if (live !== undefined && live !== rules.transport) return refusal(400, transportErrors.cannotChange);
  if (claimed.issuedAt + rules.unusedLifetimeMs <= now) return refusal(404, UNKNOWN_CONNECTION);
  return claimed;
}

/** Why a resumption was refused, for the log; the client only learns the status. */
export type ResumptionRefusal = Refusal & { readonly reason: string };

/**
 * Checks a stateful reconnect to a node that does not hold the connection (it restarted, or
 * another node held it). Both tokens must be authentic and agree: an unexpired groups token,
 * sealed for this hub and user and for the connection the connection token names, proves the
 * client held it recently. The server seals a connection's groups tokens only for that
 * connection's hub and user, so checking them on the groups token checks the connection token's
 * too. Whether the connection ended is the registry's to say.
 */
export function claimResumption(
  connection: ConnectionTokenClaims | undefined,
  groupsToken: string,
  userKey: string | undefined,
  rules: Pick<ClaimRules, 'hubPath'> & { readonly groupsTokens: GroupsTokens },
  now = Date.now(),
): GroupsTokenClaims | ResumptionRefusal {
  if (!connection) return refused(404, UNKNOWN_CONNECTION, 'connection token refused');
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
