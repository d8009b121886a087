import type { ChainableCommander } from 'ioredis';
import type { RedisChannels } from './redis-channels.js';
import type { RedisClient } from './redis-clients.js';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';

/**
 * The groups of this node's connections, kept in Redis as one set per connection so that every
 * node can read them, and a connection that resumes on another node finds them. Each set lives
 * for a TTL, refreshed every third of it while this node holds the connection.
 *
 * Every transaction touches one connection's key only, so that on a cluster, where keys spread
 * over the slots by connection id, none spans two slots (Redis refuses those, CROSSSLOT).
 */
export class ConnectionGroupsStore {
  private readonly refreshTimer: NodeJS.Timeout;

  constructor(
    private readonly client: RedisClient,
    private readonly channels: RedisChannels,
    /** The groups of this node's connections, as its in-process core holds them: what is written to Redis. */
    private readonly groupsOfConnection: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly ttlMs: number,
    private readonly warning: ThrottledWarning,
  ) {
    this.refreshTimer = setInterval(() => void this.refreshAll(), Math.max(1, Math.floor(ttlMs / 3)));
    this.refreshTimer.unref();
  }

  /** The groups of a connection as stored, sorted; undefined when Redis cannot answer. */
  async read(connectionId: string): Promise<string[] | undefined> {
    if (this.client.status !== 'ready') return undefined;
    try {
      const groups = await this.client.smembers(this.channels.connectionGroupsKey(connectionId));
      return groups.toSorted();
    } catch {
      return undefined; // the connection dropped
    }
  }

  /**
   * Adds one group to a local connection's set, with a fresh TTL: a join costs the same however
   * many groups the connection is in. The connection's first group replaces the set, which may
   * still hold the groups it had on a node it was taken over from.
   */
  joined(connectionId: string, groupName: string, first: boolean): Promise<void> {
    return this.change(connectionId, (transaction, key) => {
      if (first) transaction.del(key);
      transaction.sadd(key, groupName);
    });
  }

  /** Removes one group from a local connection's set; Redis deletes a set left empty. */
  left(connectionId: string, groupName: string): Promise<void> {
    return this.change(connectionId, (transaction, key) => transaction.srem(key, groupName));
  }

  /** Rewrites the sets of every local connection, each with a fresh TTL: after an outage, which changes may have missed. */
  async storeAll(): Promise<void> {
    if (this.client.status !== 'ready') return;
    await Promise.all(
      [...this.groupsOfConnection].map(([connectionId, groups]) => {
        const key = this.channels.connectionGroupsKey(connectionId);
        const transaction = this.client.multi().del(key);
        if (groups.size > 0) transaction.sadd(key, ...groups).pexpire(key, this.ttlMs);
        return this.run(transaction);
      }),
    );
  }

  dispose(): void {
    clearInterval(this.refreshTimer);
  }

  private async refreshAll(): Promise<void> {
    if (this.client.status !== 'ready') return;
    await Promise.all(
      [...this.groupsOfConnection.keys()].map((connectionId) =>
        this.client.pexpire(this.channels.connectionGroupsKey(connectionId), this.ttlMs).catch((error: Error) => this.warn('refresh', error)),
      ),
    );
  }

  /** One change and the TTL together (MULTI): a set never lives on without its TTL. */
  private async change(connectionId: string, write: (transaction: ChainableCommander, key: string) => void): Promise<void> {
    if (this.client.status !== 'ready') return; // rewritten on recovery
    const key = this.channels.connectionGroupsKey(connectionId);
    const transaction = this.client.multi();
    write(transaction, key);
    transaction.pexpire(key, this.ttlMs);
    await this.run(transaction);
  }

  private async run(transaction: ChainableCommander): Promise<void> {
    await transaction.exec().catch((error: Error) => this.warn('store', error));
  }

  private warn(action: 'store' | 'refresh', error: Error): void {
    this.warning.warn(`Could not ${action} group memberships in Redis: ${error.message}`);
  }
}
