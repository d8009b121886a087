import { Logger } from '@nestjs/common';
import type { GroupManager } from '../clients/client-proxy.js';
import type { HubLifetimeManager } from '../clients/hub-lifetime-manager.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { GroupsTokenClaims } from '../security/groups-tokens.js';

/** Decides whether a resuming connection's user may be put back in a group. */
export type CanRejoin = (user: unknown, groupName: string, hubPath: string) => boolean | Promise<boolean>;

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
 * if no newer membership was recorded. Each group also passes the app's `canRejoin`. Refused
 * groups are dropped and logged; the client is not told.
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
  for (const groupName of groups) {
    if (await rules.canRejoin(caller.user, groupName, rules.hubPath)) await rules.groups.addToGroup(connectionId, groupName);
    else logger.warn(`canRejoin refused a resuming connection's group '${groupName}'; it was dropped.`);
  }
}
