import { Injectable } from '@nestjs/common';
import {
  AllowAnonymous,
  Authorize,
  Caller,
  Hub,
  type AuthorizationContext,
  type AuthorizationPolicy,
  type HubCallerContext,
  type OnHubConnected,
  type OnHubDisconnected,
} from 'nestjs-signalr';

/** Counts every piece of hub code that ran, so refusals can prove none did. */
@Injectable()
export class HubCodeRuns {
  count = 0;
  /** Connections whose end the hub has seen, counted apart: ending is not admitting. */
  disconnected = 0;
}

@Injectable()
export class NotBannedPolicy implements AuthorizationPolicy {
  isAllowed(user: unknown, context: AuthorizationContext): boolean {
    return (user as { sub?: string }).sub !== 'mallory' && context.method !== undefined;
  }
}

@Hub('/hubs/open')
export class OpenHub implements OnHubConnected, OnHubDisconnected {
  constructor(private readonly runs: HubCodeRuns) {}

  onConnected(): void {
    this.runs.count++;
  }

  onDisconnected(): void {
    this.runs.disconnected++;
  }

  ping(): string {
    return 'pong';
  }

  whoami(@Caller() caller: HubCallerContext): string | null {
    return caller.userIdentifier ?? null;
  }

  @Authorize()
  secret(): string {
    this.runs.count++;
    return 'secret';
  }

  @Authorize({ roles: ['admin', 'owner'] })
  adminOnly(): string {
    return 'admin';
  }

  @Authorize({ users: ['alice'] })
  aliceOnly(): string {
    return 'alice';
  }

  @Authorize({ policy: (user) => (user as { sub?: string }).sub?.startsWith('a') === true })
  startsWithA(): string {
    return 'a';
  }

  @Authorize({ policy: NotBannedPolicy })
  notBanned(): string {
    return 'welcome';
  }

  @Authorize({ roles: ['user'] })
  @Authorize({ users: ['bob'] })
  userAndBob(): string {
    return 'both';
  }
}

@Hub('/hubs/private')
@Authorize()
export class PrivateHub implements OnHubConnected, OnHubDisconnected {
  constructor(private readonly runs: HubCodeRuns) {}

  onConnected(): void {
    this.runs.count++;
  }

  onDisconnected(): void {
    this.runs.disconnected++;
  }

  ping(): string {
    return 'pong';
  }

  /** Exempt from requireAuthentication only: the hub's @Authorize still keeps anonymous callers out. */
  @AllowAnonymous()
  hello(): string {
    return 'hello';
  }
}

@Hub('/hubs/admins')
@Authorize({ roles: ['admin'] })
export class AdminsHub implements OnHubConnected {
  constructor(private readonly runs: HubCodeRuns) {}

  onConnected(): void {
    this.runs.count++;
  }

  ping(): string {
    return 'pong';
  }
}

/** Users banned by a moderator while they may be connected. */
@Injectable()
export class BanList {
  readonly banned = new Set<string>();
}

@Injectable()
export class NotOnBanList implements AuthorizationPolicy {
  constructor(private readonly bans: BanList) {}

  isAllowed(user: unknown): boolean {
    return !this.bans.banned.has((user as { sub?: string }).sub ?? '');
  }
}

/** A hub-level policy whose answer can change while a connection lasts. */
@Hub('/hubs/moderated')
@Authorize({ policy: NotOnBanList })
export class ModeratedHub {
  ping(): string {
    return 'pong';
  }
}

/** Open to anonymous callers under requireAuthentication, except where a method says otherwise. */
@Hub('/hubs/lobby')
@AllowAnonymous()
export class LobbyHub {
  ping(): string {
    return 'pong';
  }

  @Authorize()
  members(): string {
    return 'members';
  }
}

/** Under requireAuthentication: anonymous callers may connect for its one @AllowAnonymous method. */
@Hub('/hubs/foyer')
export class FoyerHub {
  @AllowAnonymous()
  ping(): string {
    return 'pong';
  }

  members(@Caller() caller: HubCallerContext): string {
    return `members for ${caller.userIdentifier}`;
  }
}
