import { Redis, type RedisOptions } from 'ioredis';
import type { RedisLifetimeManagerOptions } from './redis-lifetime-manager-options.js';

export function createRedisClient(options: RedisLifetimeManagerOptions): Redis {
  const redisOptions: RedisOptions = {
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...options.redis,
    // Fail at once rather than queue while Redis is away: queued sends would arrive late, all at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    lazyConnect: false,
  };
  return options.url === undefined ? new Redis(redisOptions) : new Redis(options.url, redisOptions);
}

export async function closeRedisClient(client: Redis): Promise<void> {
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
