import type { Logger } from '@nestjs/common';
import type { BackplaneMeter } from '../../telemetry/meters.js';
import type { RedisClusterHealth } from './cluster-state.js';

export interface RedisBackplaneHealth {
  /**
   * `up` while the Redis connections are ready and every channel is subscribed; on a cluster,
   * also while the cluster serves every slot.
   */
  readonly status: 'up' | 'down';
  /** When the status last changed (or the manager was created), in epoch milliseconds. */
  readonly since: number;
  /** Messages for other nodes that Redis could not take, so dropped, since the manager was created. */
  readonly droppedMessages: number;
  /**
   * How many times subscribed channels were found dropped (a lost connection, a shard's master
   * replaced): what other nodes published to them until they were subscribed again did not reach
   * this node. Each is also logged.
   */
  readonly subscriptionGaps: number;
  /** On a Redis Cluster: what it last said of itself. */
  readonly cluster?: RedisClusterHealth;
}

/** What the tracker keeps: whether it is up, and since when. */
export type BackplaneStatus = Pick<RedisBackplaneHealth, 'status' | 'since'>;

/**
 * The up/down state of one hub's backplane, and what is logged about it: one warning per outage,
 * one line when it first connects and one when it recovers.
 */
export class BackplaneHealthTracker {
  private state: BackplaneStatus = { status: 'down', since: Date.now() };
  private hasBeenUp = false;
  private outageSince: number | undefined;
  private lastError: string | undefined;
  private stopped = false;
  /** Set while metrics are on: each outage is counted once, as it is logged once. */
  meter: BackplaneMeter | undefined;

  constructor(
    private readonly logger: Pick<Logger, 'log' | 'warn'>,
    private readonly hubPath: string,
    /** Runs when the backplane is up again after an outage. */
    private readonly onRecovered: () => void,
  ) {}

  current(): BackplaneStatus {
    return { ...this.state };
  }

  onClientError(error: Error): void {
    this.lastError = error.message;
    // Before the first connection succeeds, no status change reports the outage.
    if (!this.hasBeenUp) this.reportOutage();
  }

  /** Takes whether both connections are ready and every channel subscribed, and logs a change. */
  update(up: boolean): void {
    if (this.stopped) return;
    if (up === (this.state.status === 'up')) return;
    this.state = { status: up ? 'up' : 'down', since: Date.now() };
    if (!up) return this.reportOutage();
    this.lastError = undefined;
    if (this.outageSince !== undefined) {
      this.logger.log(`Redis backplane of hub ${this.hubPath} recovered after ${Date.now() - this.outageSince} ms.`);
      this.outageSince = undefined;
      this.onRecovered();
    } else if (!this.hasBeenUp) {
      this.logger.log(`Redis backplane of hub ${this.hubPath} connected.`);
    }
    this.hasBeenUp = true;
  }

  /** Once the manager is disposed: no more changes, nor logs. */
  stop(): void {
    this.stopped = true;
  }

  /** Once the manager's connections are closed. */
  markClosed(): void {
    this.state = { status: 'down', since: Date.now() };
  }

  /** Logs once per outage, however many errors and reconnection attempts it lasts. */
  private reportOutage(): void {
    if (this.outageSince !== undefined || this.stopped) return;
    this.outageSince = Date.now();
    this.meter?.outage();
    const reason = this.lastError ? ` (${this.lastError})` : '';
    this.logger.warn(
      `Redis backplane of hub ${this.hubPath} is unreachable${reason}: connections of this node still ` +
        `receive messages sent from it; messages to and from other nodes are dropped until Redis is back.`,
    );
  }
}
