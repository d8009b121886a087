import type { SerializedHubMessage } from '../protocol/serialized-hub-message.js';

/** What the lifetime manager needs of a live connection: an address and a way to write to it. */
export interface HubConnectionHandle {
  readonly connectionId: string;
  readonly userIdentifier: string | undefined;
  /** Groups it may be in at once (its hub's `maximumGroupsPerConnection`): joins past it are refused. */
  readonly maximumGroups: number;
  write(message: SerializedHubMessage): void;
  /** Sends an invocation that expects a result and resolves with the client's answer. */
  invokeClient(method: string, args: readonly unknown[]): Promise<unknown>;
  /** Told of every change a lifetime manager makes to the connection's groups, whoever asked for it. */
  membershipChanged?(groupName: string, member: boolean): void;
}
