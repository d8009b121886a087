import { describe } from 'vitest';
import { REDIS_SERVER_BINARY, redisServerInstalled } from './redis-process.js';

export { REDIS_SERVER_BINARY, RedisServer } from './redis-process.js';

/**
 * Whether Debian's redis-server can be run. Missing outside CI: the suite skips, loudly. Missing
 * under CI: the suite fails (.ci/run must install the redis-server package).
 */
export function redisServerAvailable(): boolean {
  if (redisServerInstalled()) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${REDIS_SERVER_BINARY} is missing: .ci/run must install the redis-server package.`);
  }
  // oxlint-disable-next-line no-console
  console.warn(`SKIPPING Redis tests: ${REDIS_SERVER_BINARY} is not installed (apt-get install -y redis-server).`);
  return false;
}

/** `describe`, or `describe.skip` (loudly) when there is no redis-server outside CI. */
export const describeWithRedis: typeof describe = redisServerAvailable() ? describe : (describe.skip as typeof describe);
