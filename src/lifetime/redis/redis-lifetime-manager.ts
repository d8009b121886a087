import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { assertRoomForGroup } from '../group-limit.js';
import type { HubConnectionHandle } from '../hub-connection-handle.js';
import type { HubLifetimeManager } from '../hub-lifetime-manager.js';
import { InProcessLifetimeManager } from '../in-process-lifetime-manager.js';
import { BackplaneHealthTracker, type RedisBackplaneHealth } from './backplane-health.js';
import { ConnectionGroupsStore } from './connection-groups-store.js';
import { RemoteClientResults } from './remote-client-results.js';
import { RemoteGroupCommands } from './remote-group-commands.js';
import { redisUnavailableError, type RedisBackplane } from './redis-backplane.js';
import { RedisChannels } from './redis-channels.js';
import { closeRedisClient, createRedisClient } from './redis-clients.js';
import { RedisConnectionRegistry } from './redis-connection-registry.js';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_CLIENT_RESULT_TIMEOUT_MS,
  DEFAULT_CONNECTION_GROUPS_TTL_MS,
  DEFAULT_REDIS_CHANNEL_PREFIX,
  validateOptions,
  type RedisLifetimeManagerOptions,
} from './redis-lifetime-manager-options.js';
import { Audience, GroupAction, RedisProtocol, type RedisInvocation } from './redis-protocol.js';
import { RedisSubscriptions } from './redis-subscriptions.js';
import { ThrottledWarning } from '../../logging/throttled-warning.js';

const WARNING_INTERVAL_MS = 10_000;

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

  private readonly logger = new Logger('SignalR:Redis');
  private readonly channels: RedisChannels;
  private readonly protocol = new RedisProtocol();
  private readonly local = new InProcessLifetimeManager();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** Shared by every node on this Redis; the module uses it unless told otherwise. */
  readonly connectionRegistry: RedisConnectionRegistry;

  private readonly connections = new Map<string, HubConnectionHandle>();
  private readonly groupsOfConnection = new Map<string, Set<string>>();
  private readonly groupMembers = new Map<string, Set<string>>();
  private readonly userConnections = new Map<string, Set<string>>();

  private readonly backplaneHealth: BackplaneHealthTracker;
  private readonly subscriptions: RedisSubscriptions;
  private readonly groupStore: ConnectionGroupsStore;
  private readonly groupCommands: RemoteGroupCommands;
  private readonly clientResults: RemoteClientResults;
  private disposed = false;
  private readonly droppedWarning: ThrottledWarning;
  private readonly messageWarning: ThrottledWarning;

  constructor(
    private readonly hubPath: string,
    options: RedisLifetimeManagerOptions = {},
  ) {
    validateOptions(options);
    this.channels = new RedisChannels(options.channelPrefix ?? DEFAULT_REDIS_CHANNEL_PREFIX, hubPath);
    this.droppedWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);
    this.messageWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);
    this.backplaneHealth = new BackplaneHealthTracker(this.logger, hubPath, () => {
      // Redis may have restarted empty, or missed changes made during the outage.
      void this.groupStore.storeAll();
    });

    this.publisher = createRedisClient(options);
    this.subscriber = createRedisClient(options);
    this.connectionRegistry = new RedisConnectionRegistry(this.publisher, this.channels.connectionStatePrefix);
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.backplaneHealth.onClientError(error));
    }
    this.publisher.on('ready', () => this.updateHealth());
    this.publisher.on('close', () => this.updateHealth());
    this.subscriptions = new RedisSubscriptions(
      this.subscriber,
      this.messageWarning,
      () => this.disposed,
      () => this.updateHealth(),
    );
    this.subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.onMessage(channel, payload));

    const backplane: RedisBackplane = {
      serverName: this.serverName,
      channels: this.channels,
      protocol: this.protocol,
      publisher: this.publisher,
      isDisposed: () => this.disposed,
      publish: (channel, payload) => this.publish(channel, payload),
    };
    const localGroups = {
      holds: (connectionId: string) => this.connections.has(connectionId),
      add: (connectionId: string, groupName: string) => this.addLocally(connectionId, groupName),
      remove: (connectionId: string, groupName: string) => this.removeLocally(connectionId, groupName),
    };
    this.groupCommands = new RemoteGroupCommands(backplane, localGroups, options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
    this.clientResults = new RemoteClientResults(
      backplane,
      (connectionId) => this.connections.get(connectionId),
      options.clientResultTimeoutMs ?? DEFAULT_CLIENT_RESULT_TIMEOUT_MS,
    );

    void this.subscriptions.subscribe(this.channels.all, 'invocation');
    void this.subscriptions.subscribe(this.channels.groupManagement, 'groupCommand');
    void this.subscriptions.subscribe(this.channels.ack(this.serverName), 'ack');
    void this.subscriptions.subscribe(this.channels.returnResults(this.serverName), 'clientResult');

    this.groupStore = new ConnectionGroupsStore(
      this.publisher,
      this.channels,
      this.groupsOfConnection,
      options.connectionGroupsTtlMs ?? DEFAULT_CONNECTION_GROUPS_TTL_MS,
      this.droppedWarning,
    );
  }

  /** For a health indicator (e.g. @nestjs/terminus): `up` while Redis is reachable and subscribed. */
  health(): RedisBackplaneHealth {
    return this.backplaneHealth.current();
  }

  /**
   * The groups of a connection, as its node last stored them in Redis: also for a connection of
   * another node, or one that ended less than `connectionGroupsTtlMs` ago (to resume it).
   * While Redis is down, a connection of this node answers from memory; others reject.
   */
  async groupsOf(connectionId: string): Promise<string[]> {
    const stored = await this.groupStore.read(connectionId);
    if (stored) return stored;
    if (this.connections.has(connectionId)) return [...(this.groupsOfConnection.get(connectionId) ?? [])].toSorted();
    throw redisUnavailableError(`read the groups of connection '${connectionId}'`);
  }

  storedGroupsOf(connectionId: string): Promise<string[] | undefined> {
    return this.groupStore.read(connectionId);
  }

  async onConnected(connection: HubConnectionHandle): Promise<void> {
    const { connectionId, userIdentifier } = connection;
    this.connections.set(connectionId, connection);
    await this.local.onConnected(connection);
    const subscribed = [this.subscriptions.subscribe(this.channels.connection(connectionId), 'invocation')];
    if (userIdentifier !== undefined) {
      subscribed.push(this.subscriptions.join(this.userConnections, userIdentifier, connectionId, this.channels.user(userIdentifier)));
    }
    await Promise.all(subscribed);
  }

  async onDisconnected(connection: HubConnectionHandle): Promise<void> {
    const { connectionId, userIdentifier } = connection;
    if (this.connections.get(connectionId) !== connection) return;
    this.connections.delete(connectionId);
    // The group set in Redis stays until its TTL: the connection may resume on another node.
    for (const groupName of this.groupsOfConnection.get(connectionId) ?? []) {
      this.subscriptions.leave(this.groupMembers, groupName, connectionId, this.channels.group(groupName));
    }
    this.groupsOfConnection.delete(connectionId);
    if (userIdentifier !== undefined) {
      this.subscriptions.leave(this.userConnections, userIdentifier, connectionId, this.channels.user(userIdentifier));
    }
    this.subscriptions.unsubscribe(this.channels.connection(connectionId));
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
    return this.groupCommands.send(GroupAction.Add, connectionId, groupName);
  }

  removeFromGroup(connectionId: string, groupName: string): Promise<void> {
    if (this.connections.has(connectionId)) return this.removeLocally(connectionId, groupName);
    return this.groupCommands.send(GroupAction.Remove, connectionId, groupName);
  }

  async invokeConnection(connectionId: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const connection = this.connections.get(connectionId);
    if (connection) return connection.invokeClient(method, args);
    return this.clientResults.invoke(connectionId, method, args);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.backplaneHealth.stop();
    this.groupStore.dispose();
    this.groupCommands.rejectAll();
    this.clientResults.rejectAll();
    await Promise.all([closeRedisClient(this.publisher), closeRedisClient(this.subscriber)]);
    this.backplaneHealth.markClosed();
    this.subscriptions.clear();
    this.connections.clear();
    this.groupsOfConnection.clear();
    this.groupMembers.clear();
    this.userConnections.clear();
    await this.local.dispose();
  }

  // Groups of this node's connections

  private async addLocally(connectionId: string, groupName: string): Promise<void> {
    const connection = this.connections.get(connectionId);
    if (!connection) return;
    let groups = this.groupsOfConnection.get(connectionId);
    assertRoomForGroup(connection, groups, groupName);
    if (!groups) this.groupsOfConnection.set(connectionId, (groups = new Set()));
    const subscribed = this.subscriptions.join(this.groupMembers, groupName, connectionId, this.channels.group(groupName));
    if (groups.has(groupName)) return subscribed;
    groups.add(groupName);
    // Sent before anything is awaited, so that Redis gets a connection's changes in their order.
    const stored = this.groupStore.joined(connectionId, groupName, groups.size === 1);
    await this.local.addToGroup(connectionId, groupName);
    await Promise.all([subscribed, stored]);
  }

  private async removeLocally(connectionId: string, groupName: string): Promise<void> {
    const groups = this.groupsOfConnection.get(connectionId);
    if (!this.connections.has(connectionId) || !groups?.delete(groupName)) return;
    if (groups.size === 0) this.groupsOfConnection.delete(connectionId);
    this.subscriptions.leave(this.groupMembers, groupName, connectionId, this.channels.group(groupName));
    const stored = this.groupStore.left(connectionId, groupName);
    await this.local.removeFromGroup(connectionId, groupName);
    await stored;
  }

  // Incoming messages

  private onMessage(channel: Buffer, payload: Buffer): void {
    const kind = this.subscriptions.kindOf(channel.toString());
    if (!kind || this.disposed) return; // unsubscribed since it was published
    try {
      switch (kind) {
        case 'invocation':
          this.onInvocation(this.protocol.readInvocation(payload));
          break;
        case 'groupCommand':
          this.settle(this.groupCommands.apply(this.protocol.readGroupCommand(payload)));
          break;
        case 'ack':
          this.groupCommands.onAck(this.protocol.readAck(payload));
          break;
        case 'clientResult':
          this.clientResults.onResult(this.protocol.readClientResult(payload));
          break;
      }
    } catch (error) {
      this.messageWarning.warn(`Dropped an unreadable message from Redis: ${(error as Error).message}`);
    }
  }

  private onInvocation(invocation: RedisInvocation): void {
    const { audience, keys, target, args, excludedConnectionIds } = invocation;
    if (audience === Audience.ClientResult) return this.settle(this.clientResults.answer(invocation));
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

  // Publishing

  private invocation(
    audience: Audience,
    keys: readonly string[],
    target: string,
    args: readonly unknown[],
    excludedConnectionIds: readonly string[] = [],
  ): Buffer {
    return this.protocol.writeInvocation({ origin: this.serverName, audience, keys, excludedConnectionIds, target, args });
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

  private updateHealth(): void {
    this.backplaneHealth.update(this.publisher.status === 'ready' && this.subscriptions.synced);
  }
}
