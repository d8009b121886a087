import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import { PendingReplies } from './pending-replies.js';
import { managerDisposedError, redisUnavailableError, type RedisBackplane } from './redis-backplane.js';
import { publishOn } from './redis-clients.js';
import { GroupAction, type RedisAck, type RedisGroupCommand } from './redis-protocol.js';
import { describeError } from './relayed-errors.js';

/** This node's own group memberships, which commands from other nodes change. */
export interface LocalGroups {
  holds(connectionId: string): boolean;
  add(connectionId: string, groupName: string): Promise<void>;
  remove(connectionId: string, groupName: string): Promise<void>;
}

/**
 * Adding connections of other nodes to groups and removing them: the command goes to every node
 * over one channel, the node holding the connection applies it and acks it to the node that asked.
 */
export class RemoteGroupCommands {
  private readonly acks = new PendingReplies<number, void>();
  private nextAckId = 0;

  constructor(
    private readonly backplane: RedisBackplane,
    private readonly local: LocalGroups,
    private readonly ackTimeoutMs: number,
  ) {}

  /** Asks the node holding the connection to apply the change, and waits for its ack. */
  async send(action: GroupAction, connectionId: string, groupName: string): Promise<void> {
    const what =
      action === GroupAction.Add
        ? `add connection '${connectionId}' to group '${groupName}'`
        : `remove connection '${connectionId}' from group '${groupName}'`;
    const { publisher, protocol, channels, serverName } = this.backplane;
    if (this.backplane.isDisposed()) throw managerDisposedError();
    if (publisher.status !== 'ready') throw redisUnavailableError(what);
    const id = ++this.nextAckId;
    const payload = protocol.writeGroupCommand({ origin: serverName, id, action, connectionId, groupName });
    const acknowledged = this.acks.wait(
      id,
      this.ackTimeoutMs,
      () =>
        new SignalRError(
          SignalRErrorCode.BackplaneAckTimeout,
          `No server acknowledged the request to ${what} within ${this.ackTimeoutMs} ms; the connection may have ended.`,
        ),
    );
    try {
      await publishOn(publisher, channels.groupManagement, payload);
    } catch {
      this.acks.reject(id, redisUnavailableError(what));
    }
    return acknowledged;
  }

  /**
   * On every node: applies a command if the connection is this node's, and acks it. A refusal
   * (the connection's group limit) is acked with its error, for the asking node to reject with.
   */
  async apply(command: RedisGroupCommand): Promise<void> {
    if (!this.local.holds(command.connectionId)) return; // another node's connection
    let refusal: SignalRError | undefined;
    try {
      if (command.action === GroupAction.Add) await this.local.add(command.connectionId, command.groupName);
      else await this.local.remove(command.connectionId, command.groupName);
    } catch (error) {
      if (!(error instanceof SignalRError)) throw error;
      refusal = error;
    }
    const { protocol, channels } = this.backplane;
    const ack = protocol.writeAck({ id: command.id, refusal: refusal && { error: describeError(refusal).error, code: refusal.code } });
    await this.backplane.publish(channels.ack(command.origin), ack);
  }

  onAck({ id, refusal }: RedisAck): void {
    if (refusal) this.acks.reject(id, new SignalRError(refusal.code, refusal.error));
    else this.acks.resolve(id, undefined);
  }

  rejectAll(): void {
    this.acks.rejectAll(managerDisposedError);
  }
}
