import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_COMMAND_TIMEOUT_MS, type RedisLifetimeManagerOptions } from './redis-lifetime-manager-options.js';

export function createRedisClient(options: RedisLifetimeManagerOptions): Redis {
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const redisOptions: RedisOptions = {
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...options.redis,
    // Fail at once rather than queue while Redis is away: queued sends would arrive late, all at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    lazyConnect: false,
    // A Redis that stopped answering fails as one that went away: each command rejects after the
    // timeout, and the silent connection is dropped, so the outage handling (fail fast, health
    // down, resubscribe and rewrite when back) applies. An idle subscriber is never timed out.
    commandTimeout: commandTimeoutMs,
    socketTimeout: commandTimeoutMs,
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
