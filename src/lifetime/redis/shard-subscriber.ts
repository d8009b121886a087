import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { closeRedisClient, reconnectDelay } from './redis-clients.js';

const SUBSCRIBER_OPTIONS = {
  lazyConnect: false,
  enableOfflineQueue: false,
  readOnly: false,
  autoResubscribe: false,
  retryStrategy: reconnectDelay,
} as const satisfies RedisOptions;

/** What a shard subscriber tells the subscriptions it serves. */
export interface ShardSubscriberEvents {
  message(channel: Buffer, payload: Buffer): void;
  error(error: Error): void;
  /** Connected (again): every channel it holds is to be subscribed. */
  ready(subscriber: ShardSubscriber): void;
  /** The connection closed: every channel it held is dropped. */
  closed(subscriber: ShardSubscriber): void;
  /** The master dropped some of its channels on its own (it handed their slots over), not in answer to a SSUBSCRIBE. */
  dropped(subscriber: ShardSubscriber): void;
}

/** This node's subscriber connection to one master of a cluster, and the channels it holds there. */
export class ShardSubscriber {
  readonly channels = new Set<string>();
  /** Its first connection is still being made: its channels are not broken, only waiting. */
  opening = true;
  /** Settles once the first connection is made, or has failed. */
  readonly opened: Promise<void>;
  /** SSUBSCRIBE commands awaiting Redis's answer: a MOVED seen meanwhile may be the answer to one. */
  private awaiting = 0;

  private constructor(
    /** The master, `host:port`. */
    readonly node: string,
    private readonly redis: Redis,
    events: ShardSubscriberEvents,
  ) {
    this.opened = new Promise((resolve) => {
      redis.once('ready', resolve);
      redis.once('close', resolve);
    });
    redis.on('smessageBuffer', (channel: Buffer, payload: Buffer) => events.message(channel, payload));
    redis.on('error', (error: Error) => events.error(error));
    redis.on('ready', () => {
      this.opening = false;
      events.ready(this);
    });
    redis.on('close', () => {
      this.opening = false;
      events.closed(this);
    });
    // ioredis says `moved` for a MOVED answer to SSUBSCRIBE, and for a SUNSUBSCRIBE the master sent unasked.
    redis.on('moved', () => {
      if (this.awaiting === 0) events.dropped(this);
    });
  }

  /**
   * Opens a connection to `node`, with the options of one of the cluster's connections (to this
   * node if it has one): password, TLS, NAT mapping. None while the cluster knows no node.
   */
  static open(cluster: Cluster, node: string, events: ShardSubscriberEvents): ShardSubscriber | undefined {
    const known = cluster.nodes('all');
    const template = known.find((redis) => `${redis.options.host}:${redis.options.port}` === node) ?? known[0];
    if (!template) return undefined;
    const separator = node.lastIndexOf(':');
    const redis = template.duplicate({ ...SUBSCRIBER_OPTIONS, host: node.slice(0, separator), port: Number(node.slice(separator + 1)) });
    return new ShardSubscriber(node, redis, events);
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** SSUBSCRIBEs channels that all hash to one slot (Redis takes one slot per call). */
  async subscribe(channels: readonly string[]): Promise<void> {
    this.awaiting++;
    try {
      await this.redis.ssubscribe(...channels);
    } finally {
      this.awaiting--;
    }
  }

  unsubscribe(channel: string): void {
    if (this.ready) this.redis.sunsubscribe(channel).catch(() => undefined);
  }

  close(): Promise<void> {
    return closeRedisClient(this.redis);
  }
}
