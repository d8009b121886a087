import type { ConnectionRelay, RelayedExchange, RelayedRequest, RelayOutcome } from '../connection-relay.js';
import type { ChannelSubscriptions } from './channel-subscriptions.js';
import { PendingReplies } from './pending-replies.js';
import type { RedisBackplane } from './redis-backplane.js';
import type { RedisRelayedAnswer, RedisRelayedRequest } from './redis-protocol.js';

const NO_ANSWER = 'no-answer' as const;

/**
 * The relay of SSE and long-polling requests over Redis. The asking node publishes a request on
 * the connection's channel, which only the node holding it subscribes to (on a cluster, a shard
 * channel: one SPUBLISH to one shard), and awaits the answer on its own return channel, as it
 * awaits client results; Redis counting no subscriber means no node holds the connection.
 *
 * The holding node subscribes the channel from the connection's first request, before the
 * lifetime manager hears of it (the handshake's POST may already come through another node), to
 * its end, when the manager's own subscription ends too: whichever of the two lets go last
 * unsubscribes.
 */
export class RedisConnectionRelay implements ConnectionRelay {
  private readonly handlers = new Map<string, (exchange: RelayedExchange) => void>();
  private readonly pending = new PendingReplies<string, RedisRelayedAnswer['answer'] | typeof NO_ANSWER>();
  /** What to do when the asking node cancels a request this node is running, by `<origin> <requestId>`. */
  private readonly cancellations = new Map<string, () => void>();
  private nextRequestId = 0;

  constructor(
    private readonly backplane: RedisBackplane,
    private readonly subscriptions: ChannelSubscriptions,
    /** Whether the lifetime manager still holds the connection (and wants its channel). */
    private readonly managerHolds: (connectionId: string) => boolean,
    /** The command timeout: what an answer may take beyond the time the holding node may keep the request. */
    private readonly answerWithinMs: number,
  ) {}

  serves(connectionId: string): boolean {
    return this.handlers.has(connectionId);
  }

  async serve(connectionId: string, handler: (exchange: RelayedExchange) => void): Promise<() => void> {
    this.handlers.set(connectionId, handler);
    const channel = this.backplane.channels.connection(connectionId);
    await this.subscriptions.subscribe(channel, 'invocation');
    return () => {
      if (this.handlers.get(connectionId) !== handler) return;
      this.handlers.delete(connectionId);
      if (!this.managerHolds(connectionId)) this.subscriptions.unsubscribe(channel);
    };
  }

  async forward(connectionId: string, request: RelayedRequest, holdMs: number, signal: AbortSignal): Promise<RelayOutcome> {
    const { protocol, channels, serverName } = this.backplane;
    if (this.backplane.isDisposed() || this.backplane.publisher.status !== 'ready') return 'no-owner';
    const requestId = String(++this.nextRequestId);
    const answered = this.pending.wait(requestId, holdMs + this.answerWithinMs, () => new Error(NO_ANSWER)).catch(() => NO_ANSWER);
    const relayed = { origin: serverName, requestId, connectionId, verb: request.verb, body: request.body };
    let reached: boolean;
    try {
      reached = await this.backplane.publishToConnection(channels.connection(connectionId), protocol.writeRelayedRequest(relayed));
    } catch {
      reached = false;
    }
    if (!reached) {
      this.pending.resolve(requestId, undefined);
      return 'no-owner';
    }
    // The holding node lets go of what it runs for a client that left or an answer no longer awaited.
    let cancelled = false;
    const cancel = () => {
      if (cancelled) return;
      cancelled = true;
      this.pending.resolve(requestId, NO_ANSWER);
      void this.backplane.publish(channels.connection(connectionId), protocol.writeRelayedRequest({ ...relayed, verb: 'cancel', body: undefined }));
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    const answer = await answered;
    signal.removeEventListener('abort', cancel);
    if (answer === NO_ANSWER) cancel();
    return answer ?? 'no-owner';
  }

  /** On the holding node: runs a forwarded request, or cancels one. */
  onRequest(request: RedisRelayedRequest): void {
    const key = `${request.origin} ${request.requestId}`;
    if (request.verb === 'cancel') {
      const cancel = this.cancellations.get(key);
      this.cancellations.delete(key);
      cancel?.();
      return;
    }
    const handler = this.handlers.get(request.connectionId);
    let answered = false;
    const exchange: RelayedExchange = {
      request: { verb: request.verb, body: request.body },
      answer: (answer) => {
        if (answered) return;
        answered = true;
        this.cancellations.delete(key);
        const { protocol, channels } = this.backplane;
        void this.backplane.publish(channels.returnResults(request.origin), protocol.writeRelayedAnswer({ requestId: request.requestId, answer }));
      },
      onCancel: (listener) => {
        if (!answered) this.cancellations.set(key, listener);
      },
    };
    if (handler) handler(exchange);
    else exchange.answer(undefined);
  }

  /** On the asking node: an answer from the holding node. */
  onAnswer({ requestId, answer }: RedisRelayedAnswer): void {
    this.pending.resolve(requestId, answer);
  }

  rejectAll(): void {
    this.pending.rejectAll(() => new Error(NO_ANSWER));
    this.cancellations.clear();
  }
}
