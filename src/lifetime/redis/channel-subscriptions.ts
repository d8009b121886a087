/** What a channel carries, which says how its messages are read. */
export type ChannelKind = 'invocation' | 'groupCommand' | 'ack' | 'clientResult';

/** What a node's subscriptions tell its manager. */
export interface SubscriptionEvents {
  /** A message on one of the channels. */
  message(channel: Buffer, payload: Buffer): void;
  /** {@link ChannelSubscriptions.synced} may have changed. */
  syncChanged(): void;
  /** Subscribed channels were found dropped (see {@link ChannelSubscriptions.gaps}). */
  gap(): void;
  /** An error of a subscriber connection (the health tracker logs the outage it may be part of). */
  error(error: Error): void;
}

/**
 * Every channel one node wants, subscribed or to be subscribed: on one Redis, or on the masters
 * of a cluster. Kept subscribed across reconnects, and on a cluster across failovers.
 */
export interface ChannelSubscriptions<Kind extends string = ChannelKind> {
  /** True while every wanted channel is subscribed, or being subscribed on a live connection. */
  readonly synced: boolean;
  /**
   * How many times subscribed channels were found dropped (a connection lost, a shard failed
   * over): what other nodes published to them until they were subscribed again did not reach
   * this node.
   */
  readonly gaps: number;
  /** The kind of a wanted channel; undefined once it is let go of. */
  kindOf(channel: string): Kind | undefined;
  /** Settles when Redis confirmed the subscription, or at once while it cannot be made. */
  subscribe(channel: string, kind: Kind): Promise<void>;
  unsubscribe(channel: string): void;
  /** Lets go of every channel and closes the subscriber connections. */
  close(): Promise<void>;
}
