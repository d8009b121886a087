import type { Redis } from 'ioredis';
import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import type { RedisChannels } from './redis-channels.js';
import type { RedisProtocol } from './redis-protocol.js';

/** What the parts of one hub's `RedisLifetimeManager` share to talk to the other nodes. */
export interface RedisBackplane {
  /** Unique per manager: the address other nodes answer to. */
  readonly serverName: string;
  readonly channels: RedisChannels;
  readonly protocol: RedisProtocol;
  /** The connection that publishes and runs commands (the other one only subscribes). */
  readonly publisher: Redis;
  isDisposed(): boolean;
  /** Publishes, or drops with a throttled warning: never throws, never queues. */
  publish(channel: string, payload: Buffer): Promise<number>;
}

export function redisUnavailableError(what: string): SignalRError {
  return new SignalRError(SignalRErrorCode.BackplaneUnavailable, `Redis is unreachable: cannot ${what}.`);
}

export function managerDisposedError(): SignalRError {
  return new SignalRError(SignalRErrorCode.BackplaneDisposed, 'The Redis lifetime manager was disposed.');
}
