import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import type { RedisChannels } from './redis-channels.js';
import type { RedisClient } from './redis-clients.js';
import type { RedisProtocol } from './redis-protocol.js';

/** What the parts of one hub's `RedisLifetimeManager` share to talk to the other nodes. */
export interface RedisBackplane {
  /** Unique per manager: the address other nodes answer to. */
  readonly serverName: string;
  readonly channels: RedisChannels;
  readonly protocol: RedisProtocol;
  /** The connection that publishes and runs commands (subscribers are others): one Redis, or the cluster. */
  readonly publisher: RedisClient;
  isDisposed(): boolean;
  /** Publishes, or drops with a throttled warning: never throws, never queues. */
  publish(channel: string, payload: Buffer): Promise<number>;
  /** Publishes to a connection's channel: true when a node listens on it; rejects when Redis cannot take it. */
  publishToConnection(channel: string, payload: Buffer): Promise<boolean>;
}

export function redisUnavailableError(what: string): SignalRError {
  return new SignalRError(SignalRErrorCode.BackplaneUnavailable, `Redis is unreachable: cannot ${what}.`);
}

export function managerDisposedError(): SignalRError {
  return new SignalRError(SignalRErrorCode.BackplaneDisposed, 'The Redis lifetime manager was disposed.');
}
