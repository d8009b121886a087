import type { InProcessLifetimeManager } from '../in-process-lifetime-manager.js';
import type { ChannelSubscriptions } from './channel-subscriptions.js';
import type { ConnectionGroupsStore } from './connection-groups-store.js';
import type { RedisChannels } from './redis-channels.js';
import type { LocalGroups } from './remote-group-commands.js';

/**
 * The groups of this node's connections, kept in three places at once: the in-process core
 * (who gets a group's messages here), the group channels this node listens on (from the first
 * member here to the last), and each connection's set in Redis.
 */
export class NodeGroups implements LocalGroups {
  constructor(
    private readonly local: InProcessLifetimeManager,
    private readonly subscriptions: ChannelSubscriptions,
    private readonly channels: RedisChannels,
    private readonly store: ConnectionGroupsStore,
  ) {}

  holds(connectionId: string): boolean {
    return this.local.connection(connectionId) !== undefined;
  }

  async add(connectionId: string, groupName: string): Promise<void> {
    if (!this.local.connection(connectionId)) return;
    const joined = this.local.join(connectionId, groupName);
    const subscribed = this.subscriptions.subscribe(this.channels.group(groupName), 'invocation');
    if (!joined) return subscribed;
    // Sent before anything is awaited, so that Redis gets a connection's changes in their order.
    const stored = this.store.joined(connectionId, groupName, this.local.groupsOf(connectionId)?.size === 1);
    await Promise.all([subscribed, stored]);
  }

  async remove(connectionId: string, groupName: string): Promise<void> {
    if (!this.local.leave(connectionId, groupName)) return;
    this.unsubscribeIfEmpty(groupName);
    await this.store.left(connectionId, groupName);
  }

  /** Lets go of a group's channel once no connection of this node is in the group. */
  unsubscribeIfEmpty(groupName: string): void {
    if (!this.local.hasGroupMembers(groupName)) this.subscriptions.unsubscribe(this.channels.group(groupName));
  }
}
