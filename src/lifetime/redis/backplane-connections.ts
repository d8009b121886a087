import { Cluster } from 'ioredis';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import type { ChannelSubscriptions, SubscriptionEvents } from './channel-subscriptions.js';
import { ClusterStateWatch } from './cluster-state.js';
import { createCommandClient, createRedisClient, type RedisClient } from './redis-clients.js';
import type { RedisLifetimeManagerOptions } from './redis-lifetime-manager-options.js';
import { RedisSubscriptions } from './redis-subscriptions.js';
import { ShardSubscriptions } from './shard-subscriptions.js';

/** The Redis side of one hub's backplane. */
export interface BackplaneConnections {
  /** Runs commands and publishes. */
  readonly publisher: RedisClient;
  readonly subscriptions: ChannelSubscriptions;
  /** On a cluster: what it says of itself. */
  readonly clusterState: ClusterStateWatch | undefined;
}

/**
 * On one Redis, a connection that publishes and one that subscribes. On a cluster, ioredis's
 * `Cluster` to publish and run commands, a subscriber connection per master, and the cluster's
 * own state, since a cluster that serves some slots only is down for the channels in the others.
 */
export function openBackplaneConnections(
  hubPath: string,
  options: RedisLifetimeManagerOptions,
  events: SubscriptionEvents,
  warning: ThrottledWarning,
  isDisposed: () => boolean,
): BackplaneConnections {
  const publisher = createCommandClient(options);
  if (!(publisher instanceof Cluster)) {
    return { publisher, subscriptions: new RedisSubscriptions(createRedisClient(options), events, warning, isDisposed), clusterState: undefined };
  }
  return {
    publisher,
    subscriptions: new ShardSubscriptions(publisher, `hub ${hubPath}`, events, warning),
    clusterState: new ClusterStateWatch(publisher, () => events.syncChanged()),
  };
}
