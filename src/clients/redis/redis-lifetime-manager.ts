import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { SignalRError, SignalRErrorCode } from '../../errors/signalr-error-codes.js';
import type { HubConnectionHandle } from '../hub-connection-handle.js';
import type { HubLifetimeManager, HubLifetimeManagerFactory } from '../hub-lifetime-manager.js';
import { InProcessLifetimeManager } from '../in-process-lifetime-manager.js';
import { PendingReplies } from './pending-replies.js';
import { RedisChannels } from './redis-channels.js';
import {
  Audience,
  GroupAction,
  RedisProtocol,
  type RedisClientResult,
  type RedisGroupCommand,
  type RedisInvocation,
} from './redis-protocol.js';
import { ThrottledWarning } from './throttled-warning.js';

export interface RedisLifetimeManagerOptions {
  /** `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS). Default: ioredis's, 127.0.0.1:6379. */
  readonly url?: string;
  /**
   * ioredis options, applied over `url`. A few are fixed because the backplane relies on them:
   * `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`,
   * `autoResubscribe: false` (the manager resubscribes itself) and `lazyConnect: false`.
   * `retryStrategy` defaults to 200 ms more per attempt, at most 2 s.
   */
  readonly redis?: RedisOptions;
  /** Starts every channel and key, so that applications can share a Redis. Default `nestjs-signalr`. */
  readonly channelPrefix?: string;
  /** How long adding or removing a connection of another node waits for that node's ack. Default 10000. */
  readonly ackTimeoutMs?: number;
  /** How long a client-result invocation of a connection on another node waits for its answer. Default 30000. */
  readonly clientResultTimeoutMs?: number;
  /**
   * How long a connection's group set outlives the last refresh by the node that holds it
   * (refreshed every third of it). Keep it above `reconnectWindowMs`. Default 60000.
   */
  readonly connectionGroupsTtlMs?: number;
}

export interface RedisBackplaneHealth {
  /** `up` while both Redis connections are ready and every channel is subscribed. */
  readonly status: 'up' | 'down';
  /** When the status last changed (or the manager was created), in epoch milliseconds. */
  readonly since: number;
}

export const DEFAULT_REDIS_CHANNEL_PREFIX = 'nestjs-signalr';
const DEFAULT_ACK_TIMEOUT_MS = 10_000;
const DEFAULT_CLIENT_RESULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTION_GROUPS_TTL_MS = 60_000;
const WARNING_INTERVAL_MS = 10_000;
/** Channels per SUBSCRIBE when resubscribing after a reconnect. */
const SUBSCRIBE_BATCH = 1_000;

/** The health of every hub's backplane together: `down` while any of them is down. */
export interface RedisBackplaneHealthReport extends RedisBackplaneHealth {
  /** Each hub's own, by hub path. */
  readonly hubs: Readonly<Record<string, RedisBackplaneHealth>>;
}

/** The module option's factory, which also keeps the managers it created (for health checks). */
export interface RedisLifetimeManagerFactory extends HubLifetimeManagerFactory {
  (hubPath: string): RedisLifetimeManager;
  /** The manager of a hub, once the module created it. */
  managerFor(hubPath: string): RedisLifetimeManager | undefined;
  /** `up` while every hub's backplane is up (and before any was created); `since` is the latest change. */
  health(): RedisBackplaneHealthReport;
}

/**
 * The module option that scales hubs out over Redis:
 * `SignalRModule.forRoot({ lifetimeManager: redisLifetimeManager({ url }) })`. Each hub gets its own
 * manager, with its own two Redis connections and channel namespace.
 */
export function redisLifetimeManager(options: RedisLifetimeManagerOptions = {}): RedisLifetimeManagerFactory {
  validateOptions(options);
  const created = Date.now();
  const managers = new Map<string, RedisLifetimeManager>();
  const factory = (hubPath: string): RedisLifetimeManager => {
    const manager = new RedisLifetimeManager(hubPath, options);
    managers.set(hubPath, manager);
    return manager;
  };
  return Object.assign(factory, {
    managerFor: (hubPath: string) => managers.get(hubPath),
    health: (): RedisBackplaneHealthReport => {
      const hubs: Record<string, RedisBackplaneHealth> = {};
      let status: RedisBackplaneHealth['status'] = 'up';
      let since = created;
      for (const [hubPath, manager] of managers) {
        const health = (hubs[hubPath] = manager.health());
        if (health.status === 'down') status = 'down';
        since = Math.max(since, health.since);
      }
      return { status, since, hubs };
    },
  });
}

type ChannelKind = 'invocation' | 'groupCommand' | 'ack' | 'clientResult';

interface Subscription {
  readonly kind: ChannelKind;
  /** Settles when Redis confirmed the subscription, or at once while Redis is down. */
  readonly subscribed: Promise<void>;
}

/**
 * A `HubLifetimeManager` over Redis pub/sub, modelled on ASP.NET Core's RedisHubLifetimeManager.
 *
 * Every send is delivered to this node's connections directly (through an embedded
 * `InProcessLifetimeManager`) and published once, to the channel of its audience, for the other
 * nodes; a node ignores what it published itself. A node subscribes to `all`, to the channel of
 * each of its connections, and to the channels of the groups and users that have connections on
 * it. Sends naming one group, user or remote connection go to that one's channel; sends naming
 * several go to `all`, once, and each node picks its own recipients, so that no connection
 * receives a message twice.
 *
 * When Redis is unreachable, local delivery goes on; what other nodes should have received is
 * dropped (nothing is queued) with a throttled warning; commands that need another node reject.
 * When Redis is back, every channel is subscribed again.
 */
export class RedisLifetimeManager implements HubLifetimeManager {
  /** Unique per manager: the address other nodes answer to. */
  readonly serverName = `${hostname()}_${randomUUID().replaceAll('-', '')}`;

  private readonly logger = new Logger('SignalR Redis');
  private readonly channels: RedisChannels;
  private readonly protocol = new RedisProtocol();
  private readonly local = new InProcessLifetimeManager();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  private readonly connections = new Map<string, HubConnectionHandle>();
  private readonly groupsOfConnection = new Map<string, Set<string>>();
  private readonly groupMembers = new Map<string, Set<string>>();
  private readonly userConnections = new Map<string, Set<string>>();
  /** Every channel this node wants, subscribed or (while Redis is down) to be subscribed. */
  private readonly subscriptions = new Map<string, Subscription>();

  private readonly acks = new PendingReplies<number, void>();
  private readonly clientResults = new PendingReplies<string, RedisClientResult>();
  private nextAckId = 0;
  private nextInvocationId = 0;

  private readonly ackTimeoutMs: number;
  private readonly clientResultTimeoutMs: number;
  private readonly connectionGroupsTtlMs: number;
  private readonly refreshTimer: NodeJS.Timeout;

  private state: RedisBackplaneHealth = { status: 'down', since: Date.now() };
  private subscriberSynced = false;
  /** Counts subscriber reconnects, so that a resubscription overtaken by a newer one stands down. */
  private subscriberGeneration = 0;
  private hasBeenUp = false;
  private outageSince: number | undefined;
  private lastError: string | undefined;
  private disposed = false;
  private readonly droppedWarning: ThrottledWarning;
  private readonly messageWarning: ThrottledWarning;

  constructor(
    private readonly hubPath: string,
    options: RedisLifetimeManagerOptions = {},
  ) {
    validateOptions(options);
    this.channels = new RedisChannels(options.channelPrefix ?? DEFAULT_REDIS_CHANNEL_PREFIX, hubPath);
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.clientResultTimeoutMs = options.clientResultTimeoutMs ?? DEFAULT_CLIENT_RESULT_TIMEOUT_MS;
    this.connectionGroupsTtlMs = options.connectionGroupsTtlMs ?? DEFAULT_CONNECTION_GROUPS_TTL_MS;
    this.droppedWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);
    this.messageWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);

    this.publisher = createClient(options);
    this.subscriber = createClient(options);
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.onClientError(error));
    }
    this.publisher.on('ready', () => this.updateHealth());
    this.publisher.on('close', () => this.updateHealth());
    this.subscriber.on('ready', () => void this.resubscribeAll());
    this.subscriber.on('close', () => {
      this.subscriberGeneration++;
      this.subscriberSynced = false;
      this.updateHealth();
    });
    this.subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.onMessage(channel, payload));

    void this.subscribe(this.channels.all, 'invocation');
    void this.subscribe(this.channels.groupManagement, 'groupCommand');
    void this.subscribe(this.channels.ack(this.serverName), 'ack');
    void this.subscribe(this.channels.returnResults(this.serverName), 'clientResult');

    this.refreshTimer = setInterval(() => void this.refreshGroupStores(), Math.max(1, Math.floor(this.connectionGroupsTtlMs / 3)));
    this.refreshTimer.unref();
  }

  /** For a health indicator (e.g. @nestjs/terminus): `up` while Redis is reachable and subscribed. */
  health(): RedisBackplaneHealth {
    return { ...this.state };
  }

  /**
   * The groups of a connection, as its node last stored them in Redis: also for a connection of
   * another node, or one that ended less than `connectionGroupsTtlMs` ago (to resume it).
   * While Redis is down, a connection of this node answers from memory; others reject.
   */
  async groupsOf(connectionId: string): Promise<string[]> {
    if (this.publisher.status === 'ready') {
      try {
        const groups = await this.publisher.smembers(this.channels.connectionGroupsKey(connectionId));
        return groups.toSorted();
      } catch {
        // the connection dropped: answer as below
      }
    }
    if (this.connections.has(connectionId)) return [...(this.groupsOfConnection.get(connectionId) ?? [])].toSorted();
    throw unavailable(`read the groups of connection '${connectionId}'`);
  }

  async onConnected(connection: HubConnectionHandle): Promise<void> {
    const { connectionId, userIdentifier } = connection;
    this.connections.set(connectionId, connection);
    await this.local.onConnected(connection);
    const subscribed = [this.subscribe(this.channels.connection(connectionId), 'invocation')];
    if (userIdentifier !== undefined) {
      subscribed.push(this.join(this.userConnections, userIdentifier, connectionId, this.channels.user(userIdentifier)));
    }
    await Promise.all(subscribed);
  }

  async onDisconnected(connection: HubConnectionHandle): Promise<void> {
    const { connectionId, userIdentifier } = connection;
    if (this.connections.get(connectionId) !== connection) return;
    this.connections.delete(connectionId);
    // The group set in Redis stays until its TTL: the connection may resume on another node.
    for (const groupName of this.groupsOfConnection.get(connectionId) ?? []) {
      this.leave(this.groupMembers, groupName, connectionId, this.channels.group(groupName));
    }
    this.groupsOfConnection.delete(connectionId);
    if (userIdentifier !== undefined) {
      this.leave(this.userConnections, userIdentifier, connectionId, this.channels.user(userIdentifier));
    }
    this.unsubscribe(this.channels.connection(connectionId));
    await this.local.onDisconnected(connection);
  }

  async sendAll(method: string, args: readonly unknown[], excludedConnectionIds: readonly string[] = []): Promise<void> {
    if (this.disposed) return;
    const payload = this.invocation(Audience.All, [], method, args, excludedConnectionIds);
    await this.local.sendAll(method, args, excludedConnectionIds);
    await this.publish(this.channels.all, payload);
  }

  async sendConnections(connectionIds: readonly string[], method: string, args: readonly unknown[]): Promise<void> {
    if (this.disposed) return;
    const unique = [...new Set(connectionIds)];
    const remote = unique.filter((connectionId) => !this.connections.has(connectionId));
    // A send only to connections of this node never touches Redis, as in ASP.NET Core.
    const payload = remote.length > 0 ? this.invocation(Audience.Connections, remote, method, args) : undefined;
    if (remote.length < unique.length) await this.local.sendConnections(unique, method, args);
    if (payload) await this.publish(remote.length === 1 ? this.channels.connection(remote[0]) : this.channels.all, payload);
  }

  async sendGroups(
    groupNames: readonly string[],
    method: string,
    args: readonly unknown[],
    excludedConnectionIds: readonly string[] = [],
  ): Promise<void> {
    if (this.disposed) return;
    const unique = [...new Set(groupNames)];
    if (unique.length === 0) return;
    const payload = this.invocation(Audience.Groups, unique, method, args, excludedConnectionIds);
    await this.local.sendGroups(unique, method, args, excludedConnectionIds);
    await this.publish(unique.length === 1 ? this.channels.group(unique[0]) : this.channels.all, payload);
  }

  async sendUsers(userIdentifiers: readonly string[], method: string, args: readonly unknown[]): Promise<void> {
    if (this.disposed) return;
    const unique = [...new Set(userIdentifiers)];
    if (unique.length === 0) return;
    const payload = this.invocation(Audience.Users, unique, method, args);
    await this.local.sendUsers(unique, method, args);
    await this.publish(unique.length === 1 ? this.channels.user(unique[0]) : this.channels.all, payload);
  }

  addToGroup(connectionId: string, groupName: string): Promise<void> {
    if (this.connections.has(connectionId)) return this.addLocally(connectionId, groupName);
    return this.sendGroupCommand(GroupAction.Add, connectionId, groupName);
  }

  removeFromGroup(connectionId: string, groupName: string): Promise<void> {
    if (this.connections.has(connectionId)) return this.removeLocally(connectionId, groupName);
    return this.sendGroupCommand(GroupAction.Remove, connectionId, groupName);
  }

  async invokeConnection(connectionId: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const connection = this.connections.get(connectionId);
    if (connection) return connection.invokeClient(method, args);
    if (this.disposed) throw disposedError();
    if (this.publisher.status !== 'ready') throw unavailable(`invoke '${method}' on a connection of another node`);
    const invocationId = String(++this.nextInvocationId);
    const payload = this.invocation(Audience.ClientResult, [connectionId], method, args, [], invocationId);
    const answer = this.clientResults.wait(
      invocationId,
      this.clientResultTimeoutMs,
      () =>
        new SignalRError(SignalRErrorCode.ClientResultTimeout, `The client did not answer '${method}' within ${this.clientResultTimeoutMs} ms.`),
    );
    try {
      // Redis counts the subscribers: none means no node holds the connection.
      const receivers = await this.publisher.publish(this.channels.connection(connectionId), payload);
      if (receivers === 0) {
        this.clientResults.reject(
          invocationId,
          new SignalRError(SignalRErrorCode.ConnectionNotFound, `Connection '${connectionId}' does not exist.`),
        );
      }
    } catch {
      this.clientResults.reject(invocationId, unavailable(`invoke '${method}' on a connection of another node`));
    }
    const reply = await answer;
    if (reply.ok) return reply.result;
    throw errorFromReply(reply.error, reply.code);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.refreshTimer);
    this.acks.rejectAll(disposedError);
    this.clientResults.rejectAll(disposedError);
    await Promise.all([closeClient(this.publisher), closeClient(this.subscriber)]);
    this.state = { status: 'down', since: Date.now() };
    this.subscriptions.clear();
    this.connections.clear();
    this.groupsOfConnection.clear();
    this.groupMembers.clear();
    this.userConnections.clear();
    await this.local.dispose();
  }

  // Groups

  private async addLocally(connectionId: string, groupName: string): Promise<void> {
    if (!this.connections.has(connectionId)) return;
    let groups = this.groupsOfConnection.get(connectionId);
    if (!groups) this.groupsOfConnection.set(connectionId, (groups = new Set()));
    const subscribed = this.join(this.groupMembers, groupName, connectionId, this.channels.group(groupName));
    if (!groups.has(groupName)) {
      groups.add(groupName);
      await this.local.addToGroup(connectionId, groupName);
      await Promise.all([subscribed, this.storeGroups([connectionId])]);
    } else {
      await subscribed;
    }
  }

  private async removeLocally(connectionId: string, groupName: string): Promise<void> {
    const groups = this.groupsOfConnection.get(connectionId);
    if (!this.connections.has(connectionId) || !groups?.delete(groupName)) return;
    if (groups.size === 0) this.groupsOfConnection.delete(connectionId);
    this.leave(this.groupMembers, groupName, connectionId, this.channels.group(groupName));
    await this.local.removeFromGroup(connectionId, groupName);
    await this.storeGroups([connectionId]);
  }

  /** Asks the node holding the connection to apply the change, and waits for its ack. */
  private async sendGroupCommand(action: GroupAction, connectionId: string, groupName: string): Promise<void> {
    const what =
      action === GroupAction.Add
        ? `add connection '${connectionId}' to group '${groupName}'`
        : `remove connection '${connectionId}' from group '${groupName}'`;
    if (this.disposed) throw disposedError();
    if (this.publisher.status !== 'ready') throw unavailable(what);
    const id = ++this.nextAckId;
    const payload = this.protocol.writeGroupCommand({ origin: this.serverName, id, action, connectionId, groupName });
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
      await this.publisher.publish(this.channels.groupManagement, payload);
    } catch {
      this.acks.reject(id, unavailable(what));
    }
    return acknowledged;
  }

  private async onGroupCommand(command: RedisGroupCommand): Promise<void> {
    if (!this.connections.has(command.connectionId)) return; // another node's connection
    if (command.action === GroupAction.Add) await this.addLocally(command.connectionId, command.groupName);
    else await this.removeLocally(command.connectionId, command.groupName);
    await this.publish(this.channels.ack(command.origin), this.protocol.writeAck(command.id));
  }

  /** Rewrites the group sets of local connections in Redis, each with a fresh TTL. */
  private async storeGroups(connectionIds: readonly string[]): Promise<void> {
    if (this.publisher.status !== 'ready' || connectionIds.length === 0) return; // rewritten on recovery
    const transaction = this.publisher.multi();
    for (const connectionId of connectionIds) {
      const key = this.channels.connectionGroupsKey(connectionId);
      const groups = this.groupsOfConnection.get(connectionId);
      transaction.del(key);
      if (groups?.size) transaction.sadd(key, ...groups).pexpire(key, this.connectionGroupsTtlMs);
    }
    try {
      await transaction.exec();
    } catch (error) {
      this.droppedWarning.warn(`Could not store group memberships in Redis: ${(error as Error).message}`);
    }
  }

  private async refreshGroupStores(): Promise<void> {
    if (this.publisher.status !== 'ready' || this.groupsOfConnection.size === 0) return;
    const pipeline = this.publisher.pipeline();
    for (const connectionId of this.groupsOfConnection.keys()) {
      pipeline.pexpire(this.channels.connectionGroupsKey(connectionId), this.connectionGroupsTtlMs);
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.droppedWarning.warn(`Could not refresh group memberships in Redis: ${(error as Error).message}`);
    }
  }

  // Client results

  /** On the node holding the connection: asks its client, and publishes the answer to the asking node. */
  private async answerClientResult(invocation: RedisInvocation): Promise<void> {
    const invocationId = invocation.invocationId!;
    const connectionId = invocation.keys[0];
    const connection = connectionId === undefined ? undefined : this.connections.get(connectionId);
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
      payload = this.protocol.writeClientResult(reply);
    } catch (error) {
      payload = this.protocol.writeClientResult({
        invocationId,
        ok: false,
        error: `The client's answer could not be relayed: ${(error as Error).message}`,
        code: SignalRErrorCode.ClientResultFailed,
      });
    }
    await this.publish(this.channels.returnResults(invocation.origin), payload);
  }

  // Incoming messages

  private onMessage(channel: Buffer, payload: Buffer): void {
    const subscription = this.subscriptions.get(channel.toString());
    if (!subscription || this.disposed) return; // unsubscribed since it was published
    try {
      switch (subscription.kind) {
        case 'invocation':
          this.onInvocation(this.protocol.readInvocation(payload));
          break;
        case 'groupCommand':
          this.settle(this.onGroupCommand(this.protocol.readGroupCommand(payload)));
          break;
        case 'ack':
          this.acks.resolve(this.protocol.readAck(payload), undefined);
          break;
        case 'clientResult': {
          const result = this.protocol.readClientResult(payload);
          this.clientResults.resolve(result.invocationId, result);
          break;
        }
      }
    } catch (error) {
      this.messageWarning.warn(`Dropped an unreadable message from Redis: ${(error as Error).message}`);
    }
  }

  private onInvocation(invocation: RedisInvocation): void {
    const { audience, keys, target, args, excludedConnectionIds } = invocation;
    if (audience === Audience.ClientResult) return this.settle(this.answerClientResult(invocation));
    // The publishing node delivered to its own connections already.
    if (invocation.origin === this.serverName) return;
    switch (audience) {
      case Audience.All:
        return this.settle(this.local.sendAll(target, args, excludedConnectionIds));
      case Audience.Connections:
        return this.settle(this.local.sendConnections(keys, target, args));
      case Audience.Groups:
        return this.settle(this.local.sendGroups(keys, target, args, excludedConnectionIds));
      case Audience.Users:
        return this.settle(this.local.sendUsers(keys, target, args));
    }
  }

  private settle(work: Promise<unknown>): void {
    work.catch((error: Error) => this.messageWarning.warn(`Failed to deliver a message from Redis: ${error.message}`));
  }

  // Publishing and subscriptions

  private invocation(
    audience: Audience,
    keys: readonly string[],
    target: string,
    args: readonly unknown[],
    excludedConnectionIds: readonly string[] = [],
    invocationId?: string,
  ): Buffer {
    return this.protocol.writeInvocation({ origin: this.serverName, audience, keys, excludedConnectionIds, target, args, invocationId });
  }

  /** Publishes, or drops with a throttled warning: never throws, never queues. */
  private async publish(channel: string, payload: Buffer): Promise<number> {
    if (this.publisher.status !== 'ready') {
      if (!this.disposed) this.droppedWarning.warn(`Messages for other nodes of hub ${this.hubPath} are dropped while Redis is unreachable.`);
      return 0;
    }
    try {
      return await this.publisher.publish(channel, payload);
    } catch (error) {
      this.droppedWarning.warn(`Could not publish to Redis for hub ${this.hubPath}: ${(error as Error).message}`);
      return 0;
    }
  }

  /** Adds a connection under a key (group or user), subscribing the key's channel for the first one. */
  private join(index: Map<string, Set<string>>, key: string, connectionId: string, channel: string): Promise<void> {
    let members = index.get(key);
    if (!members) index.set(key, (members = new Set()));
    members.add(connectionId);
    return this.subscribe(channel, 'invocation');
  }

  /** Removes a connection from under a key, unsubscribing the key's channel after the last one. */
  private leave(index: Map<string, Set<string>>, key: string, connectionId: string, channel: string): void {
    const members = index.get(key);
    if (!members?.delete(connectionId) || members.size > 0) return;
    index.delete(key);
    this.unsubscribe(channel);
  }

  private subscribe(channel: string, kind: ChannelKind): Promise<void> {
    const existing = this.subscriptions.get(channel);
    if (existing) return existing.subscribed;
    const subscribed =
      this.subscriber.status === 'ready'
        ? this.subscriber.subscribe(channel).then(
            () => undefined,
            () => undefined, // the connection dropped: resubscribeAll runs when it is back
          )
        : Promise.resolve();
    this.subscriptions.set(channel, { kind, subscribed });
    return subscribed;
  }

  private unsubscribe(channel: string): void {
    if (!this.subscriptions.delete(channel)) return;
    if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(channel).catch(() => undefined);
  }

  /**
   * Subscribes every wanted channel on each (re)connection of the subscriber. ioredis's own
   * `autoResubscribe` would only restore the channels subscribed before the connection dropped,
   * missing those of groups and connections that joined during the outage.
   */
  private async resubscribeAll(): Promise<void> {
    const generation = ++this.subscriberGeneration;
    const channels = [...this.subscriptions.keys()];
    try {
      for (let start = 0; start < channels.length; start += SUBSCRIBE_BATCH) {
        await this.subscriber.subscribe(...channels.slice(start, start + SUBSCRIBE_BATCH));
      }
      // Channels let go of meanwhile may have been unsubscribed before the batch subscribed them.
      const stale = channels.filter((channel) => !this.subscriptions.has(channel));
      if (stale.length > 0) await this.subscriber.unsubscribe(...stale);
    } catch (error) {
      if (generation === this.subscriberGeneration && !this.disposed) {
        this.messageWarning.warn(`Could not resubscribe to Redis: ${(error as Error).message}; reconnecting.`);
        this.subscriber.disconnect(true);
      }
      return;
    }
    if (generation !== this.subscriberGeneration || this.subscriber.status !== 'ready') return;
    this.subscriberSynced = true;
    this.updateHealth();
  }

  // Health

  private onClientError(error: Error): void {
    this.lastError = error.message;
    // Before the first connection succeeds, no status change reports the outage.
    if (!this.hasBeenUp) this.reportOutage();
  }

  private updateHealth(): void {
    if (this.disposed) return;
    const up = this.publisher.status === 'ready' && this.subscriberSynced;
    if (up === (this.state.status === 'up')) return;
    this.state = { status: up ? 'up' : 'down', since: Date.now() };
    if (!up) return this.reportOutage();
    this.lastError = undefined;
    if (this.outageSince !== undefined) {
      this.logger.log(`Redis backplane of hub ${this.hubPath} recovered after ${Date.now() - this.outageSince} ms.`);
      this.outageSince = undefined;
      // Redis may have restarted empty, or missed changes made during the outage.
      void this.storeGroups([...this.groupsOfConnection.keys()]);
    } else if (!this.hasBeenUp) {
      this.logger.log(`Redis backplane of hub ${this.hubPath} connected.`);
    }
    this.hasBeenUp = true;
  }

  /** Logs once per outage, however many errors and reconnection attempts it lasts. */
  private reportOutage(): void {
    if (this.outageSince !== undefined || this.disposed) return;
    this.outageSince = Date.now();
    const reason = this.lastError ? ` (${this.lastError})` : '';
    this.logger.warn(
      `Redis backplane of hub ${this.hubPath} is unreachable${reason}: connections of this node still ` +
        `receive messages sent from it; messages to and from other nodes are dropped until Redis is back.`,
    );
  }
}

function validateOptions(options: RedisLifetimeManagerOptions): void {
  if (options.channelPrefix !== undefined && options.channelPrefix.length === 0) {
    throw new RangeError('channelPrefix must not be empty.');
  }
  for (const name of ['ackTimeoutMs', 'clientResultTimeoutMs', 'connectionGroupsTtlMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new RangeError(`${name} must be a positive integer, got ${value}.`);
    }
  }
}

function createClient(options: RedisLifetimeManagerOptions): Redis {
  const redisOptions: RedisOptions = {
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...options.redis,
    // Fail at once rather than queue while Redis is away: queued sends would arrive late, all at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    lazyConnect: false,
  };
  return options.url === undefined ? new Redis(redisOptions) : new Redis(options.url, redisOptions);
}

async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: the connection dropped while quitting
    }
  }
  client.disconnect();
}

function unavailable(what: string): SignalRError {
  return new SignalRError(SignalRErrorCode.BackplaneUnavailable, `Redis is unreachable: cannot ${what}.`);
}

function disposedError(): SignalRError {
  return new SignalRError(SignalRErrorCode.BackplaneDisposed, 'The Redis lifetime manager was disposed.');
}

const SIGNALR_CODES = new Set<string>(Object.values(SignalRErrorCode));

/** The message and code of an error, to rebuild it on the node that asked. */
function describeError(error: unknown): { error: string; code?: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !SIGNALR_CODES.has(code)) return { error: message };
  // SignalRError appends the code to the message; it is appended again when rebuilt.
  const suffix = ` (${code})`;
  return { error: message.endsWith(suffix) ? message.slice(0, -suffix.length) : message, code };
}

function errorFromReply(message: string, code: string | undefined): Error {
  if (code !== undefined && SIGNALR_CODES.has(code)) return new SignalRError(code as SignalRErrorCode, message);
  return new SignalRError(SignalRErrorCode.ClientResultFailed, message);
}
