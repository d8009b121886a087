import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import type { HubConnectionHandle } from './hub-connection-handle.js';

/**
 * Refuses a join that would put a connection in more groups than its hub allows. Joining a group
 * it is already in is no new group. Lifetime managers check it where the connection lives, so
 * that a join from a hub method, from server code and from another node all meet the same limit.
 */
export function assertRoomForGroup(connection: HubConnectionHandle, groups: ReadonlySet<string> | undefined, groupName: string): void {
  if (groups === undefined || groups.has(groupName) || groups.size < connection.maximumGroups) return;
  throw new SignalRError(SignalRErrorCode.TooManyGroups, `A connection may be in at most ${connection.maximumGroups} groups.`);
}
