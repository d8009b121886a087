import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import type { HubConnectionHandle } from '../hub-connection-handle.js';
import { PendingReplies } from './pending-replies.js';
import { managerDisposedError, redisUnavailableError, type RedisBackplane } from './redis-backplane.js';
import { Audience, type RedisClientResult, type RedisInvocation } from './redis-protocol.js';
import { describeError, isSignalRErrorCode } from './relayed-errors.js';

/**
 * Client results across nodes: this node publishes the invocation to the connection's channel and
 * awaits the answer on its own return channel; the node holding the connection asks its client
 * and publishes the answer back.
 */
export class RemoteClientResults {
  private readonly pending = new PendingReplies<string, RedisClientResult>();
  private nextInvocationId = 0;

  constructor(
    private readonly backplane: RedisBackplane,
    /** A connection of this node, by id. */
    private readonly connectionOf: (connectionId: string) => HubConnectionHandle | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** Invokes a connection of another node and waits for its answer. */
  async invoke(connectionId: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const { publisher, protocol, channels, serverName } = this.backplane;
    if (this.backplane.isDisposed()) throw managerDisposedError();
    if (publisher.status !== 'ready') throw redisUnavailableError(`invoke '${method}' on a connection of another node`);
    const invocationId = String(++this.nextInvocationId);
    const payload = protocol.writeInvocation({
      origin: serverName,
      audience: Audience.ClientResult,
      keys: [connectionId],
      excludedConnectionIds: [],
      target: method,
      args,
      invocationId,
    });
    const answer = this.pending.wait(
      invocationId,
      this.timeoutMs,
      () => new SignalRError(SignalRErrorCode.ClientResultTimeout, `The client did not answer '${method}' within ${this.timeoutMs} ms.`),
    );
    try {
      // Only the node holding the connection subscribes its channel: none means no node holds it.
      if (!(await this.backplane.publishToConnection(channels.connection(connectionId), payload))) {
        this.pending.reject(
          invocationId,
          new SignalRError(SignalRErrorCode.ConnectionNotFound, `Connection '${connectionId}' does not exist.`),
        );
      }
    } catch {
      this.pending.reject(invocationId, redisUnavailableError(`invoke '${method}' on a connection of another node`));
    }
    const reply = await answer;
    if (reply.ok) return reply.result;
    throw errorFromReply(reply.error, reply.code);
  }

  /** On the node holding the connection: asks its client, and publishes the answer to the asking node. */
  async answer(invocation: RedisInvocation): Promise<void> {
    const invocationId = invocation.invocationId!;
    const connectionId = invocation.keys[0];
    const connection = connectionId === undefined ? undefined : this.connectionOf(connectionId);
    let reply: RedisClientResult;
    if (!connection) {
      reply = {
        invocationId,
        ok: false,
        error: `Connection '${connectionId}' does not exist.`,
        code: SignalRErrorCode.ConnectionNotFound,
      };
    } else {
      try {
        reply = { invocationId, ok: true, result: await connection.invokeClient(invocation.target, invocation.args) };
      } catch (error) {
        reply = { invocationId, ok: false, ...describeError(error) };
      }
    }
    let payload: Buffer;
    try {
      payload = this.backplane.protocol.writeClientResult(reply);
    } catch (error) {
      payload = this.backplane.protocol.writeClientResult({
        invocationId,
        ok: false,
        error: `The client's answer could not be relayed: ${(error as Error).message}`,
        code: SignalRErrorCode.ClientResultFailed,
      });
    }
    await this.backplane.publish(this.backplane.channels.returnResults(invocation.origin), payload);
  }

  onResult(result: RedisClientResult): void {
    this.pending.resolve(result.invocationId, result);
  }

  rejectAll(): void {
    this.pending.rejectAll(managerDisposedError);
  }
}

function errorFromReply(message: string, code: string | undefined): Error {
  if (isSignalRErrorCode(code)) return new SignalRError(code, message);
  return new SignalRError(SignalRErrorCode.ClientResultFailed, message);
}
