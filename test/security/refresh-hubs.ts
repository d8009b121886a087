import { Injectable } from '@nestjs/common';
import { Authorize, Caller, Hub, type HubCallerContext, type OnHubAuthenticationRefreshed } from 'nestjs-signalr';

/** What each hub's `onAuthenticationRefreshed` saw: the connection and its user's roles then. */
@Injectable()
export class RefreshLog {
  readonly refreshed: { connectionId: string; roles: readonly string[] }[] = [];
}

const rolesOf = (caller: HubCallerContext): readonly string[] => (caller.user as { roles?: string[] }).roles ?? [];

/** Any authenticated user connects; one method needs the admin role. */
@Hub('/hubs/refresh')
@Authorize()
export class RefreshHub implements OnHubAuthenticationRefreshed {
  constructor(private readonly log: RefreshLog) {}

  onAuthenticationRefreshed(caller: HubCallerContext): void {
    this.log.refreshed.push({ connectionId: caller.connectionId, roles: rolesOf(caller) });
  }

  echo(value: unknown): unknown {
    return value;
  }

  roles(@Caller() caller: HubCallerContext): readonly string[] {
    return rolesOf(caller);
  }

  @Authorize({ roles: ['admin'] })
  adminOnly(): string {
    return 'admin';
  }
}

/** Only members connect: a refresh without the role ends the connection. */
@Hub('/hubs/members')
@Authorize({ roles: ['member'] })
export class MembersHub {
  echo(value: unknown): unknown {
    return value;
  }
}

/** Opted out: no lifetime in negotiate, no `/refresh`. */
@Hub('/hubs/no-refresh', { authenticationRefresh: false })
@Authorize()
export class NoRefreshHub {
  echo(value: unknown): unknown {
    return value;
  }
}

/** Two refreshes a minute per connection. */
@Hub('/hubs/refresh-limited', { maximumAuthenticationRefreshesPerMinute: 2 })
@Authorize()
export class LimitedRefreshHub {}
