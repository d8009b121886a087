import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  DEFAULT_CLUSTER_SLOTS_REFRESH_INTERVAL_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type RedisClusterOptions,
  type RedisLifetimeManagerOptions,
} from './redis-lifetime-manager-options.js';

/** The connection that runs a backplane's commands and publishes: one Redis, or a whole cluster. */
export type RedisClient = Redis | Cluster;

/** How long to wait before reconnecting: 200 ms more per attempt, at most 2 s. */
export const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

/** What every connection to a Redis node gets, whatever the user's options say. */
function fixedNodeOptions(options: Pick<RedisLifetimeManagerOptions, 'commandTimeoutMs'>) {
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return {
    // Fail at once rather than queue while Redis is away: queued sends would arrive late, all at once.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    // A Redis that stopped answering fails as one that went away: each command rejects after the
    // timeout, and the silent connection is dropped, so the outage handling (fail fast, health
    // down, resubscribe and rewrite when back) applies. An idle subscriber is never timed out.
    commandTimeout: commandTimeoutMs,
    socketTimeout: commandTimeoutMs,
  } as const satisfies RedisOptions;
}

/** A connection to one Redis (never to a cluster): the standalone backplane's, and a subscriber to one cluster node. */
export function createRedisClient(options: Pick<RedisLifetimeManagerOptions, 'url' | 'redis' | 'commandTimeoutMs'>): Redis {
  const redisOptions: RedisOptions = {
    retryStrategy: reconnectDelay,
    ...options.redis,
    enableOfflineQueue: false,
    lazyConnect: false,
    ...fixedNodeOptions(options),
  };
  return options.url === undefined ? new Redis(redisOptions) : new Redis(options.url, redisOptions);
}

/** The connection that runs commands: to the cluster when one is configured, else to the one Redis. */
export function createCommandClient(options: Pick<RedisLifetimeManagerOptions, 'url' | 'redis' | 'cluster' | 'commandTimeoutMs'>): RedisClient {
  return options.cluster ? createClusterClient(options.cluster, options) : createRedisClient(options);
}

function createClusterClient(cluster: RedisClusterOptions, options: Pick<RedisLifetimeManagerOptions, 'commandTimeoutMs'>): Cluster {
  return new Cluster([...cluster.nodes], {
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshInterval: DEFAULT_CLUSTER_SLOTS_REFRESH_INTERVAL_MS,
    ...cluster.options,
    // A node's connection opens on its first command; without the queue, the commands sent while
    // it opens would fail and be retried through other nodes, arriving out of order. Nothing
    // queues while the cluster itself is down: every command is sent only once it is ready.
    enableOfflineQueue: true,
    lazyConnect: false,
    shardedSubscribers: false,
    redisOptions: { ...cluster.options?.redisOptions, ...fixedNodeOptions(options) },
  });
}

/**
 * Rejects while the client is not connected, so that what needs Redis fails at once rather than
 * waits (a cluster keeps its offline queue: see createClusterClient).
 */
export function assertReady(client: RedisClient): void {
  if (client.status !== 'ready') throw new Error(`Redis is not connected (${client.status}).`);
}

/** PUBLISH on one Redis; SPUBLISH on a cluster, where every channel of the backplane is a shard channel. */
export async function publishOn(client: RedisClient, channel: string, payload: Buffer | string): Promise<number> {
  return client instanceof Cluster ? Number(await client.spublish(channel, payload)) : client.publish(channel, payload);
}

export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: the connection dropped while quitting
    }
  }
  client.disconnect();
}
