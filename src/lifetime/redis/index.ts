export type { RedisBackplaneHealth } from './backplane-health.js';
export type { RedisClusterHealth } from './cluster-state.js';
export {
  redisLifetimeManager,
  type RedisBackplaneHealthReport,
  type RedisLifetimeManagerFactory,
} from './redis-lifetime-manager-factory.js';
export { RedisLifetimeManager } from './redis-lifetime-manager.js';
export { DEFAULT_REDIS_CHANNEL_PREFIX, type RedisClusterOptions, type RedisLifetimeManagerOptions } from './redis-lifetime-manager-options.js';
export { redisConnectionRegistry } from './redis-connection-registry.js';
export {
  backplaneHealthResult,
  DEFAULT_BACKPLANE_HEALTH_KEY,
  SignalRBackplaneHealthIndicator,
  type BackplaneHealthDetails,
  type BackplaneHealthIndicatorResult,
} from './backplane-health-indicator.js';
