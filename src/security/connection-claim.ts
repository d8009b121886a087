import type { ConnectionRegistry } from './connection-registry.js';
import type { ConnectionTokens } from './connection-tokens.js';
import { refusal, type Refusal } from './hub-gatekeeper.js';

/** Classic SignalR's words, kept so that clients and logs recognize the case. */
export const IDENTITY_CHANGED = 'The user identity cannot change during an active connection.';

export interface ClaimRules {
  readonly hubPath: string;
  readonly tokens: ConnectionTokens;
  readonly registry: ConnectionRegistry;
  /** How long after negotiate a token may open its socket. */
  readonly unusedLifetimeMs: number;
  /** Whether the connection is waiting for its client to come back (stateful reconnect). */
  readonly isResumable: (connectionId: string) => boolean;
}

/**
 * Checks a connection token presented on upgrade against who is presenting it. Anything not
 * issued by us for this hub is unknown (404), as is a token past its use; a token of another
 * user is refused (403) even when authentic. The checks run again on every reconnect.
 */
export function claimConnection(
  connectionToken: string,
  userKey: string | undefined,
  rules: ClaimRules,
  now = Date.now(),
): { connectionId: string; issuedAt: number } | Refusal {
  const claims = rules.tokens.open(connectionToken);
  if (!claims || claims.hubPath !== rules.hubPath) return refusal(404, 'No Connection with that ID');
  if (claims.userKey !== userKey) return refusal(403, IDENTITY_CHANGED);
  // A reconnecting client presents the token it negotiated long ago: liveness, not age, counts.
  if (rules.isResumable(claims.connectionId)) return { connectionId: claims.connectionId, issuedAt: claims.issuedAt };
  if (rules.registry.isLive(claims.connectionId)) return refusal(409, 'Connection ID already in use');
  if (rules.registry.hasEnded(claims.connectionId) || claims.issuedAt + rules.unusedLifetimeMs <= now) {
    return refusal(404, 'No Connection with that ID');
  }
  return { connectionId: claims.connectionId, issuedAt: claims.issuedAt };
}
