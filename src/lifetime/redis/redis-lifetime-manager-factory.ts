import type { HubLifetimeManagerFactory } from '../hub-lifetime-manager.js';
import type { RedisBackplaneHealth } from './backplane-health.js';
import { RedisLifetimeManager } from './redis-lifetime-manager.js';
import { validateOptions, type RedisLifetimeManagerOptions } from './redis-lifetime-manager-options.js';

/**
 * The health of every hub's backplane together: `down` while any of them is down; the counts are
 * their sums, and on a cluster its state is the worst one a hub read.
 */
export interface RedisBackplaneHealthReport extends RedisBackplaneHealth {
  /** Each hub's own, by hub path. */
  readonly hubs: Readonly<Record<string, RedisBackplaneHealth>>;
}

/** The module option's factory, which also keeps the managers it created (for health checks). */
export interface RedisLifetimeManagerFactory extends HubLifetimeManagerFactory {
  (hubPath: string): RedisLifetimeManager;
  /** The manager of a hub, once the module created it. */
  managerFor(hubPath: string): RedisLifetimeManager | undefined;
  /** `up` while every hub's backplane is up (and before any was created); `since` is the latest change. */
  health(): RedisBackplaneHealthReport;
}

/**
 * The module option that scales hubs out over Redis:
 * `SignalRModule.forRoot({ lifetimeManager: redisLifetimeManager({ url }) })`, or on a Redis Cluster
 * `redisLifetimeManager({ cluster: { nodes } })`. Each hub gets its own manager, with its own Redis
 * connections (two on one Redis; on a cluster, ioredis's and one subscriber per master) and
 * channel namespace.
 */
export function redisLifetimeManager(options: RedisLifetimeManagerOptions = {}): RedisLifetimeManagerFactory {
  validateOptions(options);
  const created = Date.now();
  const managers = new Map<string, RedisLifetimeManager>();
  const factory = (hubPath: string): RedisLifetimeManager => {
    const manager = new RedisLifetimeManager(hubPath, options);
    managers.set(hubPath, manager);
    return manager;
  };
  return Object.assign(factory, {
    managerFor: (hubPath: string) => managers.get(hubPath),
    health: (): RedisBackplaneHealthReport => {
      const hubs: Record<string, RedisBackplaneHealth> = {};
      let status: RedisBackplaneHealth['status'] = 'up';
      let since = created;
      let [droppedMessages, subscriptionGaps] = [0, 0];
      let cluster: RedisBackplaneHealth['cluster'];
      for (const [hubPath, manager] of managers) {
        const health = (hubs[hubPath] = manager.health());
        if (health.status === 'down') status = 'down';
        since = Math.max(since, health.since);
        droppedMessages += health.droppedMessages;
        subscriptionGaps += health.subscriptionGaps;
        if (health.cluster && cluster?.state !== 'fail') cluster = health.cluster;
      }
      return { status, since, droppedMessages, subscriptionGaps, ...(cluster && { cluster }), hubs };
    },
  });
}
