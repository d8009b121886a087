import type { Redis } from 'ioredis';
import type { ThrottledWarning } from '../../logging/throttled-warning.js';
import type { ChannelKind, ChannelSubscriptions, SubscriptionEvents } from './channel-subscriptions.js';
import { closeRedisClient } from './redis-clients.js';

interface Subscription {
  readonly kind: ChannelKind;
  /** Settles when Redis confirmed the subscription, or at once while Redis is down. */
  readonly subscribed: Promise<void>;
}

/** Channels per SUBSCRIBE when resubscribing after a reconnect. */
const SUBSCRIBE_BATCH = 1_000;

/**
 * Every channel this node wants, subscribed or (while Redis is down) to be subscribed, on its
 * subscriber connection to one Redis; each time that connection is ready again, all of them are
 * subscribed anew.
 */
export class RedisSubscriptions implements ChannelSubscriptions {
  private readonly wanted = new Map<string, Subscription>();
  private allSubscribed = false;
  /** Counts subscriber reconnects, so that a resubscription overtaken by a newer one stands down. */
  private generation = 0;
  gaps = 0;

  constructor(
    private readonly subscriber: Redis,
    private readonly events: SubscriptionEvents,
    private readonly warning: ThrottledWarning,
    private readonly isDisposed: () => boolean,
  ) {
    subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => events.message(channel, payload));
    subscriber.on('error', (error: Error) => events.error(error));
    subscriber.on('ready', () => void this.resubscribeAll());
    subscriber.on('close', () => {
      this.generation++;
      if (this.allSubscribed) {
        this.gaps++;
        events.gap();
      }
      this.allSubscribed = false;
      events.syncChanged();
    });
  }

  get synced(): boolean {
    return this.allSubscribed;
  }

  kindOf(channel: string): ChannelKind | undefined {
    return this.wanted.get(channel)?.kind;
  }

  subscribe(channel: string, kind: ChannelKind): Promise<void> {
    const existing = this.wanted.get(channel);
    if (existing) return existing.subscribed;
    const subscribed =
      this.subscriber.status === 'ready'
        ? this.subscriber.subscribe(channel).then(
            () => undefined,
            () => undefined, // the connection dropped: resubscribeAll runs when it is back
          )
        : Promise.resolve();
    this.wanted.set(channel, { kind, subscribed });
    return subscribed;
  }

  unsubscribe(channel: string): void {
    if (!this.wanted.delete(channel)) return;
    if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(channel).catch(() => undefined);
  }

  async close(): Promise<void> {
    await closeRedisClient(this.subscriber);
    this.wanted.clear();
  }

  /**
   * Subscribes every wanted channel on each (re)connection of the subscriber. ioredis's own
   * `autoResubscribe` would only restore the channels subscribed before the connection dropped,
   * missing those of groups and connections that joined during the outage.
   */
  private async resubscribeAll(): Promise<void> {
    const generation = ++this.generation;
    const channels = [...this.wanted.keys()];
    try {
      for (let start = 0; start < channels.length; start += SUBSCRIBE_BATCH) {
        await this.subscriber.subscribe(...channels.slice(start, start + SUBSCRIBE_BATCH));
      }
      // Channels let go of meanwhile may have been unsubscribed before the batch subscribed them.
      const stale = channels.filter((channel) => !this.wanted.has(channel));
      if (stale.length > 0) await this.subscriber.unsubscribe(...stale);
    } catch (error) {
      if (generation === this.generation && !this.isDisposed()) {
        this.warning.warn(`Could not resubscribe to Redis: ${(error as Error).message}; reconnecting.`);
        this.subscriber.disconnect(true);
      }
      return;
    }
    if (generation !== this.generation || this.subscriber.status !== 'ready') return;
    this.allSubscribed = true;
    this.events.syncChanged();
  }
}
