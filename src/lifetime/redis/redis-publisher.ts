import { Cluster } from 'ioredis';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import type { BackplaneMeter } from '../../telemetry/meters.js';
import { publishOn, type RedisClient } from './redis-clients.js';

const FORWARDED = Promise.resolve();

/**
 * Publishes on the one connection that publishes, in the order asked, so that Redis relays a
 * sender's messages to every node in that order. Never throws, never queues while Redis is
 * away: what cannot be published is dropped with a throttled warning.
 */
export class RedisPublisher {
  /** Bytes of forwarded sends that Redis has not answered yet. */
  private unansweredBytes = 0;
  /** Set while metrics are on: how long Redis takes to answer a publish. */
  meter: BackplaneMeter | undefined;
  /** Messages for other nodes that Redis could not take, since the manager was created. */
  dropped = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly hubPath: string,
    private readonly maximumPendingBytes: number,
    private readonly warning: ThrottledWarning,
    private readonly isDisposed: () => boolean,
  ) {}

  /** Resolves with how many subscribers Redis handed the message to: 0 when it was dropped. */
  async publish(channel: string, payload: Buffer): Promise<number> {
    if (this.client.status !== 'ready') {
      if (this.isDisposed()) return 0;
      this.drop();
      this.warning.warn(`Messages for other nodes of hub ${this.hubPath} are dropped while Redis is unreachable.`);
      return 0;
    }
    try {
      const startedAt = this.meter ? performance.now() : 0;
      const receivers = await publishOn(this.client, channel, payload);
      this.meter?.published((performance.now() - startedAt) / 1000);
      return receivers;
    } catch (error) {
      this.drop();
      this.warning.warn(`Could not publish to Redis for hub ${this.hubPath}: ${(error as Error).message}`);
      return 0;
    }
  }

  private drop(): void {
    this.dropped++;
    this.meter?.dropped();
  }

  /**
   * Publishes to a connection's channel, which one node at most subscribes to, and tells whether
   * one does. Rejects when Redis cannot take the message.
   */
  async publishToConnection(channel: string, payload: Buffer): Promise<boolean> {
    const receivers = await publishOn(this.client, channel, payload);
    if (receivers > 0 || !(this.client instanceof Cluster)) return receivers > 0;
    // SPUBLISH counts only the subscribers of the node that took it, not those of the other nodes
    // of its shard: during a failover a node may still listen on the former master. All are asked.
    const counts = await Promise.all(
      this.client.nodes('all').map((node) => node.pubsub('SHARDNUMSUB', channel).then(([, count]) => Number(count), () => 0)),
    );
    return counts.some((count) => count > 0);
  }

  /**
   * Publishes a send for the other nodes without waiting for Redis's answer: the sender's next
   * invocation runs in the same turn, so that the sends of one turn share each local receiver's
   * frame, as they do without a backplane. Past `maximumPendingBytes` unanswered, a send waits
   * for its own answer, which bounds what piles up for a slow Redis.
   */
  forward(channel: string, payload: Buffer): Promise<void> {
    const bytes = payload.length;
    this.unansweredBytes += bytes;
    const answered = this.publish(channel, payload).then(() => {
      this.unansweredBytes -= bytes;
    });
    return this.unansweredBytes > this.maximumPendingBytes ? answered : FORWARDED;
  }
}
