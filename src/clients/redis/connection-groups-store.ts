import type { Redis } from 'ioredis';
import type { RedisChannels } from './redis-channels.js';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';

/**
 * The groups of this node's connections, kept in Redis as one set per connection so that every
 * node can read them, and a connection that resumes on another node finds them. Each set lives
 * for a TTL, refreshed every third of it while this node holds the connection.
 */
export class ConnectionGroupsStore {
  private readonly refreshTimer: NodeJS.Timeout;

  constructor(
    private readonly client: Redis,
    private readonly channels: RedisChannels,
    /** This node's own record, by connection id: what is written to Redis. */
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

  /** Rewrites the group sets of local connections in Redis, each with a fresh TTL. */
  async store(connectionIds: readonly string[]): Promise<void> {
    if (this.client.status !== 'ready' || connectionIds.length === 0) return; // rewritten on recovery
    const transaction = this.client.multi();
    for (const connectionId of connectionIds) {
      const key = this.channels.connectionGroupsKey(connectionId);
      const groups = this.groupsOfConnection.get(connectionId);
      transaction.del(key);
      if (groups?.size) transaction.sadd(key, ...groups).pexpire(key, this.ttlMs);
    }
    try {
      await transaction.exec();
    } catch (error) {
      this.warning.warn(`Could not store group memberships in Redis: ${(error as Error).message}`);
    }
  }

  storeAll(): Promise<void> {
    return this.store([...this.groupsOfConnection.keys()]);
  }

  dispose(): void {
    clearInterval(this.refreshTimer);
  }

  private async refreshAll(): Promise<void> {
    if (this.client.status !== 'ready' || this.groupsOfConnection.size === 0) return;
    const pipeline = this.client.pipeline();
    for (const connectionId of this.groupsOfConnection.keys()) {
      pipeline.pexpire(this.channels.connectionGroupsKey(connectionId), this.ttlMs);
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.warning.warn(`Could not refresh group memberships in Redis: ${(error as Error).message}`);
    }
  }
}
