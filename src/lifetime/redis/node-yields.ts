import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import { assertReady, closeRedisClient, publishOn, type RedisClient } from './redis-clients.js';
import { ShardSubscriptions } from './shard-subscriptions.js';

/** How often a node says it is up, and how long the word lasts: a node silent this long is gone. */
const HEARTBEAT_INTERVAL_MS = 1_000;
const HEARTBEAT_TTL_MS = 3_000;

/**
 * How nodes sharing a connection registry hand a connection to each other. A node that takes a
 * connection over (its client resumed there) asks the node recorded as holding it to let go, over
 * Redis pub/sub, and waits for its answer: never two live sockets for one connection id. A node
 * that is down has no heartbeat, and is not asked.
 *
 * Keys and channels carry `~`, which no connection id (base64url) contains. On a cluster they are
 * shard channels, kept subscribed as the backplane's are (ShardSubscriptions).
 */
export class NodeYields {
  /** Closes what listens for this node's requests and replies, once listening. */
  private stopListening: (() => Promise<void>) | undefined;
  /** Whether this node hears requests now: it says it is up only then. */
  private hearing: () => boolean = () => false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly waiting = new Map<string, () => void>();
  private handler: ((connectionId: string) => void) | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly node: string,
    private readonly warning: ThrottledWarning,
  ) {}

  /** Starts answering other nodes' requests, and saying this node is up. */
  async listen(handler: (connectionId: string) => void): Promise<void> {
    this.handler = handler;
    if (this.stopListening) return;
    const channels = [this.requestChannel(this.node), this.replyChannel(this.node)];
    const onMessage = (channel: Buffer | string, text: Buffer | string) => this.onMessage(String(channel), String(text));
    // A node that starts before Redis answers says it is up as soon as it can hear requests, not a
    // beat later: meanwhile another node would take its connections over without asking.
    if (this.client instanceof Cluster) {
      const events = { message: onMessage, syncChanged: () => this.beat(), gap: () => undefined, error: () => undefined };
      const subscriptions = new ShardSubscriptions<'yield'>(this.client, 'the connection registry', events, this.warning);
      this.stopListening = () => subscriptions.close();
      this.hearing = () => subscriptions.synced;
      await Promise.all(channels.map((channel) => subscriptions.subscribe(channel, 'yield')));
    } else {
      const subscriber = this.client.duplicate({ enableOfflineQueue: true, autoResubscribe: true });
      this.stopListening = () => closeRedisClient(subscriber);
      this.hearing = () => subscriber.status === 'ready';
      subscriber.on('error', () => undefined);
      subscriber.on('message', onMessage);
      await subscriber.subscribe(...channels).catch(() => undefined);
      subscriber.on('ready', () => this.beat());
    }
    this.client.on('ready', () => this.beat());
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /** Whether `node` said it is up within the heartbeat's lifetime. */
  async isUp(node: string): Promise<boolean> {
    assertReady(this.client);
    return (await this.client.exists(this.heartbeatKey(node))) === 1;
  }

  /** Asks `node` to let go of the connection; true once it has, false if it did not answer in time. */
  async ask(node: string, connectionId: string, timeoutMs: number): Promise<boolean> {
    const id = randomUUID();
    const answered = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(false);
      }, timeoutMs);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(true);
      });
    });
    assertReady(this.client);
    await publishOn(this.client, this.requestChannel(node), JSON.stringify({ id, connectionId, from: this.node }));
    return answered;
  }

  async dispose(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    if (!this.stopListening) return;
    this.hearing = () => false;
    // Gone on purpose: no one waits for the heartbeat to lapse before taking this node's connections.
    if (this.client.status === 'ready') await this.client.del(this.heartbeatKey(this.node)).catch(() => undefined);
    await this.stopListening();
  }

  private onMessage(channel: string, text: string): void {
    let message: { id?: unknown; connectionId?: unknown; from?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id !== 'string') return;
    if (channel === this.replyChannel(this.node)) return this.waiting.get(message.id)?.();
    if (typeof message.connectionId !== 'string' || typeof message.from !== 'string') return;
    this.handler?.(message.connectionId);
    if (this.client.status !== 'ready') return;
    void publishOn(this.client, this.replyChannel(message.from), JSON.stringify({ id: message.id })).catch(() => undefined);
  }

  private beat(): void {
    if (this.client.status !== 'ready' || !this.hearing()) return;
    void this.client.set(this.heartbeatKey(this.node), '1', 'PX', HEARTBEAT_TTL_MS).catch(() => undefined);
  }

  private heartbeatKey(node: string): string {
    return `${this.keyPrefix}~up~${node}`;
  }

  private requestChannel(node: string): string {
    return `${this.keyPrefix}~yield~${node}`;
  }

  private replyChannel(node: string): string {
    return `${this.keyPrefix}~yielded~${node}`;
  }
}
