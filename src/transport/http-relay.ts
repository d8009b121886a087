import { EventEmitter } from 'node:events';
import { transportErrors } from '../errors/transport-errors.js';
import type { ConnectionRelay, RelayedExchange, RelayedVerb } from '../lifetime/connection-relay.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import { UNKNOWN_CONNECTION } from '../security/connection-claim.js';
import type { HttpChannel } from './http-channel.js';
import type { HttpReply } from './http-platform.js';
import { replyEmpty, replyError } from './http-replies.js';
import { LongPollingChannel, type PollReply } from './long-polling-channel.js';

const EMPTY = new Uint8Array(0);

/**
 * The answer to a request run for another node, written as an HTTP reply is and sent back whole.
 * For a poll it stands for the client's response: it closes once answered, or when the asking
 * node gave up on it (its client left, or it stopped waiting).
 */
class RelayedReply extends EventEmitter implements PollReply {
  destroyed = false;
  writableFinished = false;
  readonly response = this;

  constructor(private readonly exchange: RelayedExchange) {
    super();
    exchange.onCancel(() => this.destroy());
  }

  send(status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
    if (this.destroyed || this.writableFinished) return;
    this.writableFinished = true;
    this.exchange.answer({ status, headers, body: body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body) : body });
    this.emit('close');
  }

  destroy(): this {
    if (this.destroyed || this.writableFinished) return this;
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

/**
 * SSE and long polling across nodes: a request that reached this node for a connection another
 * node holds is forwarded there, once this node checked it completely; this node runs what other
 * nodes forward for the connections it holds, against their channels, as it runs its own
 * requests: one poll at a time (a newer one answers the older 204), POST bodies in order and only
 * while the connection reads, DELETE. See docs/architecture.md, "Across nodes".
 */
export class HttpRelay {
  constructor(
    private readonly relay: ConnectionRelay,
    private readonly channelOf: (connectionId: string) => HttpChannel | undefined,
    private readonly options: ResolvedHubOptions,
    /** Runs an authentication refresh another node admitted; absent while refresh is off. */
    private readonly refresh?: (connectionId: string, exchange: RelayedExchange) => void,
  ) {}

  /** This node holds the connection from now on; resolves once other nodes can forward to it. */
  hold(connectionId: string): Promise<() => void> {
    return this.relay.serve(connectionId, (exchange) => this.run(connectionId, exchange));
  }

  /**
   * Forwards a request to the node holding its connection and writes that node's answer, with
   * `headers` (CORS) over it; 404 when it did not answer in time. False when no node holds the
   * connection: the request is this node's to answer.
   */
  async forward(connectionId: string, verb: Exclude<RelayedVerb, 'terminate'>, reply: HttpReply, headers: Record<string, string>, body?: Buffer): Promise<boolean> {
    const controller = new AbortController();
    // A poll's client that leaves cancels it on the holding node; a body, once read, is delivered as a local one is.
    const left = () => controller.abort();
    if (verb === 'poll') reply.response.once('close', left);
    const holdMs = verb === 'poll' ? this.options.longPollingTimeoutMs : 0;
    const outcome = await this.relay.forward(connectionId, { verb, body }, holdMs, controller.signal);
    reply.response.off('close', left);
    if (outcome === 'no-owner') return false;
    if (reply.response.destroyed) return true;
    if (outcome === 'no-answer') replyError(reply, 404, UNKNOWN_CONNECTION, headers);
    else reply.send(outcome.status, { ...outcome.headers, ...headers }, Buffer.from(outcome.body.buffer, outcome.body.byteOffset, outcome.body.byteLength));
    return true;
  }

  /** Ends a connection another node may hold, as a body over the limit ends a local one; resolves once it answered. */
  async terminate(connectionId: string): Promise<void> {
    await this.relay.forward(connectionId, { verb: 'terminate' }, 0, new AbortController().signal);
  }

  private run(connectionId: string, exchange: RelayedExchange): void {
    const channel = this.channelOf(connectionId);
    if (!channel) return exchange.answer(undefined);
    if (exchange.request.verb === 'refresh') return this.refresh ? this.refresh(connectionId, exchange) : exchange.answer(undefined);
    const reply = new RelayedReply(exchange);
    switch (exchange.request.verb) {
      case 'send':
        return void this.deliver(channel, exchange.request.body ?? EMPTY, reply);
      case 'poll':
        if (channel instanceof LongPollingChannel) return void channel.poll(reply, {});
        return replyError(reply, 400, transportErrors.cannotChange);
      case 'remove':
        if (!(channel instanceof LongPollingChannel)) return replyError(reply, 400, transportErrors.deleteNotLongPolling);
        channel.remove();
        return replyEmpty(reply, 202);
      case 'terminate':
        channel.terminate();
        return replyEmpty(reply, 413);
    }
  }

  /**
   * A forwarded POST's body, in turn with the connection's other POSTs and once it reads. Given
   * up on by the asking node before that (the connection did not read within the backplane's
   * command timeout), it ends the connection rather than arriving after its client was told it failed.
   */
  private async deliver(channel: HttpChannel, body: Uint8Array, reply: RelayedReply): Promise<void> {
    let delivered = false;
    reply.once('close', () => {
      if (!delivered) channel.terminate();
    });
    const status = await channel.inTurn(async () => {
      // The asking node bounded it already; another node's word is not taken for it.
      if (body.length > this.options.maximumReceiveFrameSize) {
        channel.terminate();
        return 413;
      }
      return (await channel.deliver(Buffer.from(body.buffer, body.byteOffset, body.byteLength))) ? 200 : 404;
    });
    delivered = true;
    replyEmpty(reply, status);
  }
}
