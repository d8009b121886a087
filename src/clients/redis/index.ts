export {
  DEFAULT_REDIS_CHANNEL_PREFIX,
  RedisLifetimeManager,
  redisLifetimeManager,
  type RedisBackplaneHealth,
  type RedisBackplaneHealthReport,
  type RedisLifetimeManagerFactory,
  type RedisLifetimeManagerOptions,
} from './redis-lifetime-manager.js';
