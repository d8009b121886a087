import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

/** A Redis Cluster to scale out over, instead of one Redis. */
export interface RedisClusterOptions {
  /** Startup nodes, `host:port` or `{ host, port }`: any one that answers tells where the others are. */
  readonly nodes: readonly ClusterNode[];
  /**
   * ioredis `Cluster` options, with `redisOptions` for each node's connection. Fixed as for one
   * Redis (see `redis`): `lazyConnect: false`, and in `redisOptions` `maxRetriesPerRequest: 0`,
   * `autoResendUnfulfilledCommands: false`, `autoResubscribe: false`, `commandTimeout` and
   * `socketTimeout` from `commandTimeoutMs`. Also fixed: `enableOfflineQueue: true`, so that the
   * commands sent while a node's connection opens keep their order (the backplane sends nothing
   * while the cluster is not ready), and `shardedSubscribers: false`, since the backplane keeps
   * one subscriber connection per master itself, to know when a shard's subscriptions broke and
   * when they are whole again. `clusterRetryStrategy` defaults to 200 ms more per attempt, at most
   * 2 s, and `slotsRefreshInterval` to 5000 (ioredis documents that default but leaves the refresh
   * off): how soon a node learns of slots that moved without telling it (a failover it only sees in
   * the slot map), and how often health asks the cluster for its state.
   */
  readonly options?: ClusterOptions;
}

export interface RedisLifetimeManagerOptions {
  /** `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS). Default: ioredis's, 127.0.0.1:6379. */
  readonly url?: string;
  /**
   * Scale out over a Redis Cluster (Redis 7.0 or later) instead of one Redis; then `url` and
   * `redis` stay unset. Every channel is a shard channel (SSUBSCRIBE, SPUBLISH), placed by its
   * name's hash slot: the channels of groups, users and connections spread over the shards, and a
   * message goes only to the shard of its channel and the nodes subscribed there.
   */
  readonly cluster?: RedisClusterOptions;
  /**
   * ioredis options, applied over `url`. A few are fixed because the backplane relies on them:
   * `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`,
   * `autoResubscribe: false` (the manager resubscribes itself) and `lazyConnect: false`;
   * `commandTimeout` and `socketTimeout` come from `commandTimeoutMs`.
   * `retryStrategy` defaults to 200 ms more per attempt, at most 2 s.
   */
  readonly redis?: RedisOptions;
  /** Starts every channel and key, so that applications can share a Redis. Default `nestjs-signalr`. */
  readonly channelPrefix?: string;
  /** How long adding or removing a connection of another node waits for that node's ack. Default 10000. */
  readonly ackTimeoutMs?: number;
  /** How long a client-result invocation of a connection on another node waits for its answer. Default 30000. */
  readonly clientResultTimeoutMs?: number;
  /**
   * How long a connection's group set outlives the last refresh by the node that holds it
   * (refreshed every third of it). Keep it above `reconnectWindowMs`. Default 60000.
   */
  readonly connectionGroupsTtlMs?: number;
  /**
   * How long a Redis command may go unanswered before it fails and its connection is dropped and
   * opened again. A Redis that stops answering without closing its connections (paused, swapping,
   * a network path that loses packets) is then treated as one that is down: upgrades, invocations
   * and sends go on without it after at most this long, instead of waiting for it. A command that
   * timed out may still be carried out once Redis answers again. Default 5000, the command timeout
   * of StackExchange.Redis, which ASP.NET Core's Redis backplane uses.
   */
  readonly commandTimeoutMs?: number;
  /**
   * How many bytes of sends published for the other nodes may await Redis's answer. Below it, a
   * send resolves once this node's connections have it and it is handed to Redis, so that a
   * connection's invocations do not each wait a round trip to Redis (the sends of one turn then
   * share each receiver's frame, as without a backplane); past it, a send waits for its own
   * answer, which bounds what piles up for a slow or stalled Redis. Default 4194304 (4 MiB).
   */
  readonly maximumPendingPublishBytes?: number;
}

export const DEFAULT_REDIS_CHANNEL_PREFIX = 'nestjs-signalr';
export const DEFAULT_CLUSTER_SLOTS_REFRESH_INTERVAL_MS = 5_000;
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
export const DEFAULT_CLIENT_RESULT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECTION_GROUPS_TTL_MS = 60_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
export const DEFAULT_MAXIMUM_PENDING_PUBLISH_BYTES = 4 * 1024 * 1024;

export function validateOptions(options: RedisLifetimeManagerOptions): void {
  if (options.channelPrefix !== undefined && options.channelPrefix.length === 0) {
    throw new RangeError('channelPrefix must not be empty.');
  }
  if (options.cluster !== undefined) {
    if (options.url !== undefined || options.redis !== undefined) {
      throw new RangeError('cluster replaces url and redis: set node options in cluster.options.redisOptions.');
    }
    if (options.cluster.nodes.length === 0) throw new RangeError('cluster.nodes must name at least one node.');
  }
  for (const name of ['ackTimeoutMs', 'clientResultTimeoutMs', 'connectionGroupsTtlMs', 'commandTimeoutMs', 'maximumPendingPublishBytes'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new RangeError(`${name} must be a positive integer, got ${value}.`);
    }
  }
}
