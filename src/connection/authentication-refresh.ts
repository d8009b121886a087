import { Logger } from '@nestjs/common';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import { closeErrors } from '../errors/invocation-errors.js';
import { MessageType } from '../protocol/hub-message.js';
import type { AuthenticationRefreshPolicy } from '../security/authentication-refresh-policy.js';
import type { AuthorizationOutcome } from '../security/hub-authorizer.js';
import type { HubConnection } from './hub-connection.js';

/** A credential presented for a connection: authenticated, and capped, by the node the request reached. */
export interface PresentedCredential {
  /** `undefined`: the request was anonymous. */
  readonly user: unknown;
  /** Epoch milliseconds; undefined when it does not expire. */
  readonly expiresAt: number | undefined;
}

/** The HTTP answer to a refresh: ASP.NET Core 11's statuses, with a JSON body. */
export interface RefreshAnswer {
  readonly status: number;
  readonly body: string;
}

export interface AuthenticationRefreshParts {
  readonly hubPath: string;
  readonly maximumRefreshesPerMinute: number;
  readonly policy: AuthenticationRefreshPolicy | undefined;
  readonly identifierOf: (user: unknown) => string | undefined;
  readonly authorizeHub: (user: unknown) => Promise<AuthorizationOutcome>;
  /** The hub's `onAuthenticationRefreshed`, run after the swap. */
  readonly refreshed: (caller: HubCallerContext) => Promise<void>;
}

const MINUTE_MS = 60_000;
/** setTimeout's ceiling, and the .NET client's: a lifetime past `int.MaxValue` seconds fails its negotiate. */
const MAX_LIFETIME_SECONDS = 2 ** 31 - 1;

/**
 * Whole seconds a credential has left, as negotiate and the refresh answer announce it (the
 * official clients refresh at half of it, or some minutes before its end); undefined when it does
 * not expire or has less than a second left, and the client then does not refresh by itself.
 */
export function tokenLifetimeSeconds(expiresAt: number | undefined, now = Date.now()): number | undefined {
  if (expiresAt === undefined) return undefined;
  const seconds = Math.min(Math.floor((expiresAt - now) / 1000), MAX_LIFETIME_SECONDS);
  return seconds > 0 ? seconds : undefined;
}

export const refreshError = (status: number, code: string): RefreshAnswer => ({ status, body: JSON.stringify({ error: code }) });

/** Without a lifetime to announce the body is `{}`: JSON.stringify leaves out a field that is undefined. */
function accepted(expiresAt: number | undefined): RefreshAnswer {
  return { status: 200, body: JSON.stringify({ tokenLifetimeSeconds: tokenLifetimeSeconds(expiresAt) }) };
}

/**
 * Gives a live connection of this node the newer credential its client presented, on the node
 * holding it (the request may have reached another). The user cannot change during a
 * connection: a credential of another user (by `userIdentifier`) is refused and the connection
 * keeps its old one until it expires. One that no longer passes the hub's `@Authorize` is
 * refused and ends the connection. An older credential than the one held is "stale": accepted,
 * changing nothing, as ASP.NET Core answers it.
 */
export class AuthenticationRefresh {
  private static readonly logger = new Logger('SignalR:Security');
  /** Refreshes asked for in the current minute of each connection. */
  private readonly windows = new WeakMap<HubConnection, { startedAt: number; count: number }>();

  constructor(private readonly parts: AuthenticationRefreshParts) {}

  async apply(connection: HubConnection | undefined, credential: PresentedCredential): Promise<RefreshAnswer> {
    if (!connection) return refreshError(404, 'connection_not_found');
    const { connectionId } = connection;
    const userKey = credential.user === undefined ? undefined : this.parts.identifierOf(credential.user);
    if (userKey !== connection.userIdentifier) return this.refuse(connectionId, 403, 'user_changed', 'a credential of another user');
    if (!this.withinRate(connection)) return this.refuse(connectionId, 429, 'too_many_refreshes', 'over maximumAuthenticationRefreshesPerMinute');
    if ((await this.parts.authorizeHub(credential.user)) !== 'allowed') {
      connection.close({ type: MessageType.Close, error: closeErrors.authorizationRevoked });
      return this.refuse(connectionId, 403, 'hub_authorization_failed', "the new credential fails the hub's @Authorize; connection closed");
    }
    if (!(await this.policyAllows(connection, credential))) return this.refuse(connectionId, 403, 'permission_change_rejected', 'onAuthenticationRefresh refused');
    const held = connection.credentialExpiresAt ?? Infinity;
    if ((credential.expiresAt ?? Infinity) < held) return accepted(credential.expiresAt);
    connection.refreshCredential(credential.user, credential.expiresAt);
    this.parts.refreshed(connection).catch((error: Error) => {
      AuthenticationRefresh.logger.error(`onAuthenticationRefreshed failed for connection ${connectionId}`, error?.stack);
    });
    return accepted(credential.expiresAt);
  }

  private withinRate(connection: HubConnection, now = Date.now()): boolean {
    let window = this.windows.get(connection);
    if (!window || now - window.startedAt >= MINUTE_MS) this.windows.set(connection, (window = { startedAt: now, count: 0 }));
    window.count++;
    return window.count <= this.parts.maximumRefreshesPerMinute;
  }

  private async policyAllows(connection: HubConnection, credential: PresentedCredential): Promise<boolean> {
    const { policy, hubPath } = this.parts;
    if (!policy) return true;
    const newExpiration = credential.expiresAt === undefined ? undefined : new Date(credential.expiresAt);
    try {
      return (await policy({ hubPath, connectionId: connection.connectionId, previousUser: connection.user, newUser: credential.user, newExpiration })) === true;
    } catch (error) {
      // A policy that cannot decide does not let a credential through.
      AuthenticationRefresh.logger.error('onAuthenticationRefresh threw; the refresh is refused.', (error as Error)?.stack);
      return false;
    }
  }

  private refuse(connectionId: string, status: number, code: string, why: string): RefreshAnswer {
    AuthenticationRefresh.logger.warn(`Authentication refresh of connection ${connectionId} refused with ${status}: ${why}`);
    return refreshError(status, code);
  }
}
