import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import type { ChannelKind, ChannelSubscriptions, SubscriptionEvents } from './channel-subscriptions.js';
import { clusterSlot } from './cluster-slot.js';
import { closeRedisClient, reconnectDelay } from './redis-clients.js';

/** Channels per SSUBSCRIBE (all of one slot) when a subscriber connects again. */
const SUBSCRIBE_BATCH = 1_000;

const SUBSCRIBER_OPTIONS = {
  lazyConnect: false,
  enableOfflineQueue: false,
  readOnly: false,
  autoResubscribe: false,
  retryStrategy: reconnectDelay,
} as const satisfies RedisOptions;

const RESOLVED = Promise.resolve();

interface Wanted {
  readonly kind: ChannelKind;
  readonly slot: number;
  /** The master (`host:port`) whose subscriber holds it; undefined while its slot's master is unknown. */
  node: string | undefined;
  /**
   * `pending` while its SSUBSCRIBE is on its way on a live connection, `confirmed` once Redis
   * answered it, `broken` while it cannot be subscribed (no connection, no known master, refused).
   */
  state: 'pending' | 'confirmed' | 'broken';
  /** Settles when the last SSUBSCRIBE sent for it is answered. */
  subscribed: Promise<void>;
}

/** This node's subscriber connection to one master, and the channels it holds there. */
interface ShardSubscriber {
  readonly node: string;
  readonly redis: Redis;
  readonly channels: Set<string>;
  /** SSUBSCRIBE commands awaiting Redis's answer. */
  awaiting: number;
  /** Its first connection is still being made: its channels are not broken, only waiting. */
  opening: boolean;
  /** Checking its channels after the master dropped some: its own MOVED answers are not news. */
  checking: boolean;
}

/**
 * The shard channels one node wants on a Redis Cluster, each subscribed (SSUBSCRIBE) on this
 * node's connection to the master that serves its slot: one connection per master, holding only
 * the channels this node has a use for. A message published to a channel (SPUBLISH) goes to its
 * shard alone, and from there to the nodes subscribed to it.
 *
 * The slot map is ioredis `Cluster`'s, refreshed every `slotsRefreshInterval`, after a MOVED and
 * here whenever a channel is broken. When a master hands its slots over (a failover, a slot
 * migration) it drops their subscriptions; the connection says so (ioredis's `moved`), the
 * channels it holds are subscribed again to learn which it refuses, and those go to the master
 * the refreshed map names. When a master dies, its channels are broken until its replica is
 * promoted and they are subscribed there. Every such break is logged and counted in `gaps`, and
 * `synced` is false until no channel is broken. (ioredis's own sharded subscribers resubscribe
 * after a topology change too, but without a word on whether it worked or on what was dropped.)
 */
export class ShardSubscriptions implements ChannelSubscriptions {
  private readonly wanted = new Map<string, Wanted>();
  private readonly subscribers = new Map<string, ShardSubscriber>();
  private broken = 0;
  private refreshAttempts = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;
  gaps = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly hubPath: string,
    private readonly events: SubscriptionEvents,
    private readonly warning: ThrottledWarning,
  ) {
    cluster.on('refresh', () => this.placeAll());
  }

  get synced(): boolean {
    return this.broken === 0;
  }

  kindOf(channel: string): ChannelKind | undefined {
    return this.wanted.get(channel)?.kind;
  }

  subscribe(channel: string, kind: ChannelKind): Promise<void> {
    const existing = this.wanted.get(channel);
    if (existing) return existing.subscribed;
    const wanted: Wanted = { kind, slot: clusterSlot(channel), node: undefined, state: 'pending', subscribed: RESOLVED };
    this.wanted.set(channel, wanted);
    const subscriber = this.place(channel, wanted);
    if (subscriber) void this.subscribeOn(subscriber, [channel]);
    this.afterChange();
    return wanted.subscribed;
  }

  unsubscribe(channel: string): void {
    const wanted = this.wanted.get(channel);
    if (!wanted) return;
    this.wanted.delete(channel);
    if (wanted.state === 'broken') this.broken--;
    if (wanted.node !== undefined) this.release(channel, wanted.node);
    this.afterChange();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refreshTimer);
    const subscribers = [...this.subscribers.values()];
    this.subscribers.clear();
    this.wanted.clear();
    await Promise.all(subscribers.map((subscriber) => closeRedisClient(subscriber.redis)));
  }

  /**
   * Puts a channel on the subscriber of its slot's master, letting go of it where it was; returns
   * that subscriber when the channel is to be subscribed there now.
   */
  private place(channel: string, wanted: Wanted): ShardSubscriber | undefined {
    const node = this.cluster.slots[wanted.slot]?.[0];
    let due = wanted.state === 'broken';
    if (node !== wanted.node) {
      if (wanted.node !== undefined) this.release(channel, wanted.node);
      wanted.node = node;
      this.subscriberOn(node)?.channels.add(channel);
      due = true;
    }
    const subscriber = node === undefined ? undefined : this.subscribers.get(node);
    if (subscriber?.redis.status !== 'ready') {
      // Subscribed once its master is known and the connection ready.
      this.setState(wanted, subscriber?.opening ? 'pending' : 'broken');
      return undefined;
    }
    if (!due) return undefined;
    this.setState(wanted, 'pending');
    return subscriber;
  }

  /** After each refresh of the slot map: channels whose slot moved follow it; subscribers of former masters go. */
  private placeAll(): void {
    if (this.closed) return;
    let moved = 0;
    const toSubscribe = new Map<ShardSubscriber, string[]>();
    for (const [channel, wanted] of this.wanted) {
      const [before, wasConfirmed] = [wanted.node, wanted.state === 'confirmed'];
      const subscriber = this.place(channel, wanted);
      if (wasConfirmed && before !== wanted.node) moved++;
      if (subscriber) toSubscribe.set(subscriber, [...(toSubscribe.get(subscriber) ?? []), channel]);
    }
    for (const [subscriber, channels] of toSubscribe) void this.subscribeOn(subscriber, channels);
    if (moved > 0) this.reportGap(`handed the slots of ${moved} channels over`);
    const masters = new Set(this.cluster.slots.map((nodes) => nodes?.[0]));
    for (const [node, subscriber] of this.subscribers) {
      if (subscriber.channels.size === 0 && !masters.has(node)) {
        this.subscribers.delete(node);
        void closeRedisClient(subscriber.redis);
      }
    }
    if (this.broken === 0) this.refreshAttempts = 0;
    this.afterChange();
  }

  private release(channel: string, node: string): void {
    const subscriber = this.subscribers.get(node);
    if (!subscriber?.channels.delete(channel)) return;
    if (subscriber.redis.status === 'ready') subscriber.redis.sunsubscribe(channel).catch(() => undefined);
  }

  /** SSUBSCRIBEs channels of one subscriber, one command per slot (Redis takes one slot per call). */
  private subscribeOn(subscriber: ShardSubscriber, channels: readonly string[]): Promise<void> {
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      const wanted = this.wanted.get(channel);
      if (!wanted) continue;
      if (wanted.state === 'broken') this.setState(wanted, 'pending');
      const slotChannels = bySlot.get(wanted.slot);
      if (slotChannels) slotChannels.push(channel);
      else bySlot.set(wanted.slot, [channel]);
    }
    const batches = [...bySlot.values()].flatMap((slotChannels) =>
      Array.from({ length: Math.ceil(slotChannels.length / SUBSCRIBE_BATCH) }, (_, index) => slotChannels.slice(index * SUBSCRIBE_BATCH, (index + 1) * SUBSCRIBE_BATCH)),
    );
    const done = Promise.all(
      batches.map((batch) => {
        subscriber.awaiting++;
        return subscriber.redis.ssubscribe(...batch).then(
          () => {
            subscriber.awaiting--;
            this.settle(subscriber, batch, 'confirmed');
          },
          (error: Error) => {
            subscriber.awaiting--;
            this.refused(subscriber, batch, error);
          },
        );
      }),
    ).then(() => undefined);
    for (const channel of channels) {
      const wanted = this.wanted.get(channel);
      if (wanted) wanted.subscribed = done;
    }
    return done;
  }

  private refused(subscriber: ShardSubscriber, batch: readonly string[], error: Error): void {
    if (this.closed) return;
    // MOVED: the slot is another master's now, which a refresh of the slot map tells; a dropped
    // connection: its channels are subscribed again once it is back.
    const lost = this.settle(subscriber, batch, 'broken');
    if (lost > 0) this.reportGap(`refused ${lost} channels (${error.message})`);
    else if (!error.message.startsWith('MOVED')) this.warning.warn(`Could not subscribe on Redis Cluster node ${subscriber.node} for hub ${this.hubPath}: ${error.message}`);
  }

  /** Sets the state of the channels that are still this subscriber's; returns how many of them were confirmed before. */
  private settle(subscriber: ShardSubscriber, channels: Iterable<string>, state: Wanted['state']): number {
    let wereConfirmed = 0;
    for (const channel of channels) {
      const wanted = this.wanted.get(channel);
      if (!wanted || wanted.node !== subscriber.node || this.subscribers.get(subscriber.node) !== subscriber) continue;
      if (wanted.state === 'confirmed') wereConfirmed++;
      this.setState(wanted, state);
    }
    this.afterChange();
    return wereConfirmed;
  }

  private subscriberOn(node: string | undefined): ShardSubscriber | undefined {
    if (node === undefined) return undefined;
    const existing = this.subscribers.get(node);
    if (existing) return existing;
    // A connection of the cluster's (to this node if it has one) lends its options: password, TLS, NAT mapping.
    const known = this.cluster.nodes('all');
    const template = known.find((redis) => `${redis.options.host}:${redis.options.port}` === node) ?? known[0];
    if (!template) return undefined;
    const separator = node.lastIndexOf(':');
    const redis = template.duplicate({ ...SUBSCRIBER_OPTIONS, host: node.slice(0, separator), port: Number(node.slice(separator + 1)) });
    const subscriber: ShardSubscriber = { node, redis, channels: new Set(), awaiting: 0, opening: true, checking: false };
    this.subscribers.set(node, subscriber);
    redis.on('smessageBuffer', (channel: Buffer, payload: Buffer) => this.events.message(channel, payload));
    redis.on('error', (error: Error) => this.events.error(error));
    redis.on('ready', () => {
      subscriber.opening = false;
      void this.subscribeOn(subscriber, [...subscriber.channels]);
    });
    redis.on('close', () => {
      subscriber.opening = false;
      const lost = this.settle(subscriber, subscriber.channels, 'broken');
      if (lost > 0) this.reportGap(`${node} lost its connection with ${lost} channels`);
    });
    redis.on('moved', () => {
      if (subscriber.checking || this.subscribers.get(node) !== subscriber) return;
      // Not the answer to a SSUBSCRIBE of ours: the master dropped channels on its own.
      if (subscriber.awaiting === 0) this.reportGap(`${node} dropped channels whose slots it handed over`);
      void this.check(subscriber);
      this.cluster.refreshSlotsCache();
    });
    return subscriber;
  }

  /**
   * The master dropped some of its shard channels (it no longer serves their slots): subscribing
   * them all again finds which, since it refuses those with MOVED.
   */
  private async check(subscriber: ShardSubscriber): Promise<void> {
    if (subscriber.checking || subscriber.redis.status !== 'ready' || this.closed) return;
    subscriber.checking = true;
    try {
      await this.subscribeOn(subscriber, [...subscriber.channels]);
    } finally {
      subscriber.checking = false;
    }
  }

  private setState(wanted: Wanted, state: Wanted['state']): void {
    if (wanted.state === state) return;
    if (wanted.state === 'broken') this.broken--;
    if (state === 'broken') this.broken++;
    wanted.state = state;
  }

  private reportGap(what: string): void {
    this.gaps++;
    this.warning.warn(
      `Redis Cluster subscriptions of hub ${this.hubPath} broke (${what}): what other nodes publish to them ` +
        'does not reach this node until they are subscribed again.',
    );
  }

  /** Tells the manager, and keeps refreshing the slot map while a channel is broken. */
  private afterChange(): void {
    if (this.closed) return;
    this.events.syncChanged();
    if (this.broken === 0 || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.cluster.refreshSlotsCache((error) => {
        if (error) this.afterChange();
      });
    }, reconnectDelay(++this.refreshAttempts));
    this.refreshTimer.unref();
  }
}
