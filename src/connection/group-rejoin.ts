import { Logger } from '@nestjs/common';
import type { GroupManager } from '../lifetime/client-proxy.js';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import type { HubLifetimeManager } from '../lifetime/hub-lifetime-manager.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { CanRejoin } from '../options/signalr-module-options.js';
import type { GroupsTokenClaims } from '../security/groups-tokens.js';

/** A connection taken over from a node that lost it, waiting for its groups. */
export interface PendingRejoin {
  readonly claims: GroupsTokenClaims;
  /** The membership version the registry kept, if one survived. */
  readonly recordedVersion: number | undefined;
}

export interface RejoinRules {
  readonly hubPath: string;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly canRejoin: CanRejoin;
}

const logger = new Logger('SignalR:Endpoint');

/**
 * Puts a taken-over connection back in its groups. A shared store's record (Redis) wins over
 * the token, which the client may have kept from before a change; the token's groups count only
 * if no newer membership was recorded. Each group also passes the app's `canRejoin`, and the
 * hub's `maximumGroupsPerConnection` holds (a node may have had a higher one). Refused groups are
 * dropped and logged; the client is not told.
 */
export async function rejoinGroups(caller: HubCallerContext, { claims, recordedVersion }: PendingRejoin, rules: RejoinRules): Promise<void> {
  const { connectionId } = caller;
  let groups: readonly string[] = claims.groups;
  const stored = await rules.lifetimeManager.storedGroupsOf?.(connectionId);
  if (stored !== undefined && stored.length > 0) groups = stored;
  else if (recordedVersion !== undefined && claims.membershipVersion < recordedVersion) {
    logger.warn(`A resuming connection presented a stale groups token; its ${claims.groups.length} groups were dropped.`);
    groups = [];
  }
  for (const [index, groupName] of groups.entries()) {
    if (!(await rules.canRejoin(caller.user, groupName, rules.hubPath))) {
      logger.warn(`canRejoin refused a resuming connection's group '${groupName}'; it was dropped.`);
      continue;
    }
    try {
      await rules.groups.addToGroup(connectionId, groupName);
    } catch (error) {
      if (!(error instanceof SignalRError) || error.code !== SignalRErrorCode.TooManyGroups) throw error;
      logger.warn(`A resuming connection is in more groups than maximumGroupsPerConnection; ${groups.length - index} of its ${groups.length} groups were dropped.`);
      return;
    }
  }
}
