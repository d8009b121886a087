import type { Cluster } from 'ioredis';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import type { ChannelKind, ChannelSubscriptions, SubscriptionEvents } from './channel-subscriptions.js';
import { clusterSlot } from './cluster-slot.js';
import { reconnectDelay } from './redis-clients.js';
import { ShardSubscriber, type ShardSubscriberEvents } from './shard-subscriber.js';

/** Channels per SSUBSCRIBE (all of one slot) when a subscriber connects again. */
const SUBSCRIBE_BATCH = 1_000;

const RESOLVED = Promise.resolve();

interface Wanted<Kind extends string> {
  readonly kind: Kind;
  readonly slot: number;
  /** The master (`host:port`) whose subscriber holds it; undefined while its slot's master is unknown. */
  node: string | undefined;
  /**
   * `pending` while a new channel's SSUBSCRIBE is on its way (or its master's connection opens),
   * `confirmed` once Redis answered it, `broken` from when it was dropped or could not be
   * subscribed (no connection, no known master, refused) until Redis confirms it again: health is
   * `up` again only once every dropped channel is subscribed, not merely asked for.
   */
  state: 'pending' | 'confirmed' | 'broken';
  /** Settles when the last SSUBSCRIBE sent for it is answered. */
  subscribed: Promise<void>;
}

/**
 * The shard channels one node wants on a Redis Cluster, each subscribed (SSUBSCRIBE) on this
 * node's connection to the master that serves its slot: one connection per master, holding only
 * the channels this node has a use for. A message published to a channel (SPUBLISH) goes to its
 * shard alone, and from there to the nodes subscribed to it.
 *
 * The slot map is ioredis `Cluster`'s, refreshed every `slotsRefreshInterval`, after a MOVED and
 * here whenever a channel is broken. When a master hands its slots over (a failover, a slot
 * migration) it drops their subscriptions and says so; the channels its connection holds are
 * subscribed again to learn which it refuses, and those go to the master the refreshed map
 * names. When a master dies, its channels are broken until its replica is promoted and they are
 * subscribed there. Every such break is logged and counted in `gaps`, and
 * `synced` is false until no channel is broken. (ioredis's own sharded subscribers resubscribe
 * after a topology change too, but without a word on whether it worked or on what was dropped.)
 */
export class ShardSubscriptions<Kind extends string = ChannelKind> implements ChannelSubscriptions<Kind> {
  private readonly wanted = new Map<string, Wanted<Kind>>();
  private readonly subscribers = new Map<string, ShardSubscriber>();
  private broken = 0;
  private refreshAttempts = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly subscriberEvents: ShardSubscriberEvents;
  gaps = 0;

  constructor(
    private readonly cluster: Cluster,
    /** Whose subscriptions these are, for the log: `hub /hubs/chat`. */
    private readonly owner: string,
    private readonly events: SubscriptionEvents,
    private readonly warning: ThrottledWarning,
  ) {
    cluster.on('refresh', () => this.placeAll());
    this.subscriberEvents = {
      message: events.message,
      error: events.error,
      ready: (subscriber) => void this.subscribeOn(subscriber, [...subscriber.channels]),
      closed: (subscriber) => {
        const lost = this.settle(subscriber, subscriber.channels, 'broken');
        if (lost > 0) this.reportGap(`${subscriber.node} lost its connection with ${lost} channels`);
      },
      dropped: (subscriber) => {
        this.reportGap(`${subscriber.node} dropped channels whose slots it handed over`);
        // Subscribing them all again finds which: it refuses those with MOVED.
        void this.subscribeOn(subscriber, [...subscriber.channels]);
        this.cluster.refreshSlotsCache();
      },
    };
  }

  get synced(): boolean {
    return this.broken === 0;
  }

  kindOf(channel: string): Kind | undefined {
    return this.wanted.get(channel)?.kind;
  }

  subscribe(channel: string, kind: Kind): Promise<void> {
    const existing = this.wanted.get(channel);
    if (existing) return existing.subscribed;
    const wanted: Wanted<Kind> = { kind, slot: clusterSlot(channel), node: undefined, state: 'pending', subscribed: RESOLVED };
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
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  }

  /**
   * Puts a channel on the subscriber of its slot's master, letting go of it where it was; returns
   * that subscriber when the channel is to be subscribed there now.
   */
  private place(channel: string, wanted: Wanted<Kind>): ShardSubscriber | undefined {
    const node = this.cluster.slots[wanted.slot]?.[0];
    let due = wanted.state === 'broken';
    if (node !== wanted.node) {
      if (wanted.node !== undefined) {
        this.release(channel, wanted.node);
        // Moved: not subscribed anywhere until its new master confirms it.
        this.setState(wanted, 'broken');
      }
      wanted.node = node;
      due = true;
    }
    const subscriber = this.subscriberOn(node);
    subscriber?.channels.add(channel);
    if (!subscriber?.ready) {
      // Subscribed once its master is known and the connection ready; a new channel only waits for that.
      this.setState(wanted, subscriber?.opening && wanted.state !== 'broken' ? 'pending' : 'broken');
      if (subscriber?.opening) this.awaitOpening(wanted, subscriber);
      return undefined;
    }
    return due ? subscriber : undefined;
  }

  /** A subscription asked for while the connection opens is made once it is open: until then it is awaited. */
  private awaitOpening(wanted: Wanted<Kind>, subscriber: ShardSubscriber): void {
    const waiting: Promise<void> = subscriber.opened.then(() => (wanted.subscribed === waiting ? undefined : wanted.subscribed));
    wanted.subscribed = waiting;
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
        void subscriber.close();
      }
    }
    if (this.broken === 0) this.refreshAttempts = 0;
    this.afterChange();
  }

  private release(channel: string, node: string): void {
    const subscriber = this.subscribers.get(node);
    if (subscriber?.channels.delete(channel)) subscriber.unsubscribe(channel);
  }

  /** SSUBSCRIBEs channels of one subscriber, one command per slot (Redis takes one slot per call). */
  private subscribeOn(subscriber: ShardSubscriber, channels: readonly string[]): Promise<void> {
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      const wanted = this.wanted.get(channel);
      if (!wanted) continue;
      const slotChannels = bySlot.get(wanted.slot);
      if (slotChannels) slotChannels.push(channel);
      else bySlot.set(wanted.slot, [channel]);
    }
    const batches = [...bySlot.values()].flatMap((slotChannels) =>
      Array.from({ length: Math.ceil(slotChannels.length / SUBSCRIBE_BATCH) }, (_, index) => slotChannels.slice(index * SUBSCRIBE_BATCH, (index + 1) * SUBSCRIBE_BATCH)),
    );
    const done = Promise.all(
      batches.map((batch) =>
        subscriber.subscribe(batch).then(
          () => void this.settle(subscriber, batch, 'confirmed'),
          (error: Error) => this.refused(subscriber, batch, error),
        ),
      ),
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
    else if (!error.message.startsWith('MOVED')) this.warning.warn(`Could not subscribe on Redis Cluster node ${subscriber.node} for ${this.owner}: ${error.message}`);
  }

  /** Sets the state of the channels that are still this subscriber's; returns how many of them were confirmed before. */
  private settle(subscriber: ShardSubscriber, channels: Iterable<string>, state: Wanted<Kind>['state']): number {
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
    let subscriber = this.subscribers.get(node);
    if (!subscriber) {
      subscriber = ShardSubscriber.open(this.cluster, node, this.subscriberEvents);
      if (subscriber) this.subscribers.set(node, subscriber);
    }
    return subscriber;
  }

  private setState(wanted: Wanted<Kind>, state: Wanted<Kind>['state']): void {
    if (wanted.state === state) return;
    if (wanted.state === 'broken') this.broken--;
    if (state === 'broken') this.broken++;
    wanted.state = state;
  }

  private reportGap(what: string): void {
    this.gaps++;
    this.events.gap();
    this.warning.warn(
      `Redis Cluster subscriptions of ${this.owner} broke (${what}): what other nodes publish to them ` +
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
