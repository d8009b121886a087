import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import type { InProcessLifetimeManager } from '../in-process-lifetime-manager.js';
import type { ChannelSubscriptions } from './channel-subscriptions.js';
import type { RedisBackplane } from './redis-backplane.js';
import { Audience, type RedisInvocation } from './redis-protocol.js';
import type { RedisConnectionRelay } from './redis-connection-relay.js';
import type { RemoteClientResults } from './remote-client-results.js';
import type { RemoteGroupCommands } from './remote-group-commands.js';

/**
 * What other nodes publish, read by the channel it came on and handed on: sends to this node's
 * connections through the in-process core, commands, acks and client results to what awaits them,
 * relayed requests and their answers to the relay.
 */
export class RedisIncoming {
  constructor(
    private readonly backplane: RedisBackplane,
    private readonly subscriptions: ChannelSubscriptions,
    private readonly local: InProcessLifetimeManager,
    private readonly groupCommands: RemoteGroupCommands,
    private readonly clientResults: RemoteClientResults,
    private readonly relay: RedisConnectionRelay,
    private readonly warning: ThrottledWarning,
  ) {}

  onMessage(channel: Buffer, payload: Buffer): void {
    const kind = this.subscriptions.kindOf(channel.toString());
    if (!kind || this.backplane.isDisposed()) return; // unsubscribed since it was published
    const { protocol } = this.backplane;
    try {
      switch (kind) {
        case 'invocation': {
          const message = protocol.readInvocation(payload);
          if ('verb' in message) this.relay.onRequest(message);
          else this.onInvocation(message);
          break;
        }
        case 'groupCommand':
          this.settle(this.groupCommands.apply(protocol.readGroupCommand(payload)));
          break;
        case 'ack':
          this.groupCommands.onAck(protocol.readAck(payload));
          break;
        case 'clientResult': {
          const message = protocol.readReturn(payload);
          if ('requestId' in message) this.relay.onAnswer(message);
          else this.clientResults.onResult(message);
          break;
        }
      }
    } catch (error) {
      this.warning.warn(`Dropped an unreadable message from Redis: ${(error as Error).message}`);
    }
  }

  private onInvocation(invocation: RedisInvocation): void {
    const { audience, keys, target, args, excludedConnectionIds } = invocation;
    if (audience === Audience.ClientResult) return this.settle(this.clientResults.answer(invocation));
    // The publishing node delivered to its own connections already.
    if (invocation.origin === this.backplane.serverName) return;
    switch (audience) {
      case Audience.All:
        return this.settle(this.local.sendAll(target, args, excludedConnectionIds));
      case Audience.Connections:
        return this.settle(this.local.sendConnections(keys, target, args));
      case Audience.Groups:
        return this.settle(this.local.sendGroups(keys, target, args, excludedConnectionIds));
      case Audience.Users:
        return this.settle(this.local.sendUsers(keys, target, args));
    }
  }

  private settle(work: Promise<unknown>): void {
    work.catch((error: Error) => this.warning.warn(`Failed to deliver a message from Redis: ${error.message}`));
  }
}
