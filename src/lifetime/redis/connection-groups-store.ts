import type { ChainableCommander } from 'ioredis';
import type { RedisChannels } from './redis-channels.js';
import { reconnectDelay, type RedisClient } from './redis-clients.js';
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
  private storeTimer: NodeJS.Timeout | undefined;
  private storeAttempts = 0;

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

  /**
   * Rewrites the sets of every local connection, each with a fresh TTL: after an outage, which
   * changes may have missed. The sets that cannot be written yet (a cluster whose shards come
   * back one by one) are written again shortly, until every one is.
   */
  storeAll(): Promise<void> {
    clearTimeout(this.storeTimer);
    this.storeAttempts = 0;
    return this.store([...this.groupsOfConnection.keys()]);
  }

  private async store(connectionIds: readonly string[]): Promise<void> {
    if (this.client.status !== 'ready') return; // all rewritten on the next recovery
    const failed: string[] = [];
    await Promise.all(
      connectionIds.map(async (connectionId) => {
        // A connection no longer in a group here left them all (each removed) or ended (its set stays until its TTL).
        const groups = this.groupsOfConnection.get(connectionId);
        if (!groups) return;
        const key = this.channels.connectionGroupsKey(connectionId);
        if (!(await this.run(this.client.multi().del(key).sadd(key, ...groups).pexpire(key, this.ttlMs)))) failed.push(connectionId);
      }),
    );
    if (failed.length === 0) return;
    this.storeTimer = setTimeout(() => void this.store(failed), reconnectDelay(++this.storeAttempts));
    this.storeTimer.unref();
  }

  dispose(): void {
    clearInterval(this.refreshTimer);
    clearTimeout(this.storeTimer);
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

  /** True once the transaction ran. */
  private run(transaction: ChainableCommander): Promise<boolean> {
    return transaction.exec().then(
      () => true,
      (error: Error) => {
        this.warn('store', error);
        return false;
      },
    );
  }

  private warn(action: 'store' | 'refresh', error: Error): void {
    this.warning.warn(`Could not ${action} group memberships in Redis: ${error.message}`);
  }
}
