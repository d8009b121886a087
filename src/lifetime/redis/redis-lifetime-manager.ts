import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { HubConnectionHandle } from '../hub-connection-handle.js';
import type { HubLifetimeManager } from '../hub-lifetime-manager.js';
import { InProcessLifetimeManager } from '../in-process-lifetime-manager.js';
import { BackplaneHealthTracker, type RedisBackplaneHealth } from './backplane-health.js';
import type { BackplaneMeter } from '../../telemetry/meters.js';
import { openBackplaneConnections } from './backplane-connections.js';
import type { ChannelSubscriptions, SubscriptionEvents } from './channel-subscriptions.js';
import type { ClusterStateWatch } from './cluster-state.js';
import { ConnectionGroupsStore } from './connection-groups-store.js';
import { NodeGroups } from './node-groups.js';
import { RedisIncoming } from './redis-incoming.js';
import { RedisPublisher } from './redis-publisher.js';
import { RemoteClientResults } from './remote-client-results.js';
import { RemoteGroupCommands } from './remote-group-commands.js';
import { redisUnavailableError, type RedisBackplane } from './redis-backplane.js';
import { RedisChannels } from './redis-channels.js';
import { closeRedisClient, type RedisClient } from './redis-clients.js';
import { RedisConnectionRegistry } from './redis-connection-registry.js';
import { RedisConnectionRelay } from './redis-connection-relay.js';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_CLIENT_RESULT_TIMEOUT_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECTION_GROUPS_TTL_MS,
  DEFAULT_MAXIMUM_PENDING_PUBLISH_BYTES,
  DEFAULT_REDIS_CHANNEL_PREFIX,
  validateOptions,
  type RedisLifetimeManagerOptions,
} from './redis-lifetime-manager-options.js';
import { Audience, GroupAction, RedisProtocol } from './redis-protocol.js';
import { ThrottledWarning } from '../../logging/throttled-warning.js';

const WARNING_INTERVAL_MS = 10_000;

/**
 * A `HubLifetimeManager` over Redis pub/sub, modelled on ASP.NET Core's RedisHubLifetimeManager.
 *
 * A layer over an `InProcessLifetimeManager`, which alone knows this node's connections, groups
 * and users: every send is delivered to them through it at once, and published once, to the
 * channel of its audience, for the other nodes; a node ignores what it published itself. Kept
 * here is only what is Redis's own: the channels this node is subscribed to, the commands and
 * client results that await another node's answer, and the group sets stored in Redis.
 *
 * A node subscribes to `all`, to the channel of each of its connections, and to the channels of
 * the groups and users that have connections on it. Sends naming one group, user or remote
 * connection go to that one's channel; sends naming several go to `all`, once, and each node
 * picks its own recipients, so that no connection receives a message twice.
 *
 * When Redis is unreachable, local delivery goes on; what other nodes should have received is
 * dropped (nothing is queued) with a throttled warning; commands that need another node reject.
 * When Redis is back, every channel is subscribed again.
 *
 * On a Redis Cluster (`options.cluster`) every channel is a shard channel, on the shard of its
 * slot (see `openBackplaneConnections`). Only the node holding a connection subscribes its
 * channel, so handing anything to that node (sends, client results, what a transport forwards)
 * is one SPUBLISH to one shard.
 */
export class RedisLifetimeManager implements HubLifetimeManager {
  /** Unique per manager: the address other nodes answer to. */
  readonly serverName = `${hostname()}_${randomUUID().replaceAll('-', '')}`;

  private readonly logger = new Logger('SignalR:Redis');
  private readonly channels: RedisChannels;
  private readonly protocol = new RedisProtocol();
  private readonly local = new InProcessLifetimeManager();
  private readonly publisher: RedisClient;
  /** Shared by every node on this Redis; the module uses it unless told otherwise. */
  readonly connectionRegistry: RedisConnectionRegistry;
  /** Hands SSE and long-polling requests that reached this node to the node holding their connection. */
  readonly relay: RedisConnectionRelay;

  private readonly backplaneHealth: BackplaneHealthTracker;
  private readonly subscriptions: ChannelSubscriptions;
  private readonly clusterState: ClusterStateWatch | undefined;
  private readonly incoming: RedisIncoming;
  private readonly groupStore: ConnectionGroupsStore;
  private readonly groups: NodeGroups;
  private readonly groupCommands: RemoteGroupCommands;
  private readonly clientResults: RemoteClientResults;
  private readonly publishing: RedisPublisher;
  private backplaneMeter: BackplaneMeter | undefined;
  private disposed = false;

  constructor(hubPath: string, options: RedisLifetimeManagerOptions = {}) {
    validateOptions(options);
    this.channels = new RedisChannels(options.channelPrefix ?? DEFAULT_REDIS_CHANNEL_PREFIX, hubPath);
    const droppedWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);
    const messageWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);
    const subscriptionWarning = new ThrottledWarning(this.logger, WARNING_INTERVAL_MS);
    this.backplaneHealth = new BackplaneHealthTracker(this.logger, hubPath, () => {
      // Redis may have restarted empty, or missed changes made during the outage.
      void this.groupStore.storeAll();
    });

    const isDisposed = () => this.disposed;
    const events: SubscriptionEvents = {
      message: (channel, payload) => this.incoming.onMessage(channel, payload),
      syncChanged: () => this.updateHealth(),
      gap: () => this.backplaneMeter?.subscriptionGap(),
      error: (error) => this.backplaneHealth.onClientError(error),
    };
    const connections = openBackplaneConnections(hubPath, options, events, subscriptionWarning, isDisposed);
    ({ publisher: this.publisher, subscriptions: this.subscriptions, clusterState: this.clusterState } = connections);
    this.connectionRegistry = new RedisConnectionRegistry(this.publisher, this.channels.connectionStatePrefix);
    this.publisher.on('error', events.error);
    this.publisher.on('ready', () => this.updateHealth());
    this.publisher.on('close', () => this.updateHealth());
    const maximumPendingPublishBytes = options.maximumPendingPublishBytes ?? DEFAULT_MAXIMUM_PENDING_PUBLISH_BYTES;
    this.publishing = new RedisPublisher(this.publisher, hubPath, maximumPendingPublishBytes, droppedWarning, isDisposed);

    const backplane: RedisBackplane = {
      serverName: this.serverName,
      channels: this.channels,
      protocol: this.protocol,
      publisher: this.publisher,
      isDisposed,
      publish: (channel, payload) => this.publishing.publish(channel, payload),
      publishToConnection: (channel, payload) => this.publishing.publishToConnection(channel, payload),
    };
    this.groupStore = new ConnectionGroupsStore(
      this.publisher,
      this.channels,
      this.local.connectionGroups,
      options.connectionGroupsTtlMs ?? DEFAULT_CONNECTION_GROUPS_TTL_MS,
      droppedWarning,
    );
    this.groups = new NodeGroups(this.local, this.subscriptions, this.channels, this.groupStore);
    this.groupCommands = new RemoteGroupCommands(backplane, this.groups, options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
    this.clientResults = new RemoteClientResults(
      backplane,
      (connectionId) => this.local.connection(connectionId),
      options.clientResultTimeoutMs ?? DEFAULT_CLIENT_RESULT_TIMEOUT_MS,
    );
    this.relay = new RedisConnectionRelay(
      backplane,
      this.subscriptions,
      (connectionId) => this.local.connection(connectionId) !== undefined,
      options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    );
    this.incoming = new RedisIncoming(backplane, this.subscriptions, this.local, this.groupCommands, this.clientResults, this.relay, messageWarning);

    void this.subscriptions.subscribe(this.channels.all, 'invocation');
    void this.subscriptions.subscribe(this.channels.groupManagement, 'groupCommand');
    void this.subscriptions.subscribe(this.channels.ack(this.serverName), 'ack');
    void this.subscriptions.subscribe(this.channels.returnResults(this.serverName), 'clientResult');
  }

  /** For a health indicator (e.g. @nestjs/terminus): `up` while Redis is reachable and subscribed. */
  health(): RedisBackplaneHealth {
    return {
      ...this.backplaneHealth.current(),
      droppedMessages: this.publishing.dropped,
      subscriptionGaps: this.subscriptions.gaps,
      ...(this.clusterState?.current && { cluster: this.clusterState.current }),
    };
  }

  observeBackplane(meter: BackplaneMeter): void {
    this.backplaneMeter = meter;
    this.publishing.meter = meter;
    this.backplaneHealth.meter = meter;
  }

  /**
   * The groups of a connection, as its node last stored them in Redis: also for a connection of
   * another node, or one that ended less than `connectionGroupsTtlMs` ago (to resume it).
   * While Redis is down, a connection of this node answers from memory; others reject.
   */
  async groupsOf(connectionId: string): Promise<string[]> {
    const stored = await this.groupStore.read(connectionId);
    if (stored) return stored;
    if (this.local.connection(connectionId)) return [...(this.local.groupsOf(connectionId) ?? [])].toSorted();
    throw redisUnavailableError(`read the groups of connection '${connectionId}'`);
  }

  storedGroupsOf(connectionId: string): Promise<string[] | undefined> {
    return this.groupStore.read(connectionId);
  }

  async onConnected(connection: HubConnectionHandle): Promise<void> {
    const { connectionId, userIdentifier } = connection;
    await this.local.onConnected(connection);
    const subscribed = [this.subscriptions.subscribe(this.channels.connection(connectionId), 'invocation')];
    if (userIdentifier !== undefined) subscribed.push(this.subscriptions.subscribe(this.channels.user(userIdentifier), 'invocation'));
    await Promise.all(subscribed);
  }

  async onDisconnected(connection: HubConnectionHandle): Promise<void> {
    const { connectionId, userIdentifier } = connection;
    if (this.local.connection(connectionId) !== connection) return;
    const groups = [...(this.local.groupsOf(connectionId) ?? [])];
    await this.local.onDisconnected(connection);
    // The group set in Redis stays until its TTL: the connection may resume on another node.
    for (const groupName of groups) this.groups.unsubscribeIfEmpty(groupName);
    if (userIdentifier !== undefined && !this.local.hasUserConnections(userIdentifier)) {
      this.subscriptions.unsubscribe(this.channels.user(userIdentifier));
    }
    // The channel carries relayed requests for as long as the transport holds the connection.
    if (!this.relay.serves(connectionId)) this.subscriptions.unsubscribe(this.channels.connection(connectionId));
  }

  async sendAll(method: string, args: readonly unknown[], excludedConnectionIds: readonly string[] = []): Promise<void> {
    if (this.disposed) return;
    const payload = this.invocation(Audience.All, [], method, args, excludedConnectionIds);
    await this.local.sendAll(method, args, excludedConnectionIds);
    await this.publishing.forward(this.channels.all, payload);
  }

  async sendConnections(connectionIds: readonly string[], method: string, args: readonly unknown[]): Promise<void> {
    if (this.disposed) return;
    const unique = [...new Set(connectionIds)];
    const remote = unique.filter((connectionId) => !this.local.connection(connectionId));
    // A send only to connections of this node never touches Redis, as in ASP.NET Core.
    const payload = remote.length > 0 ? this.invocation(Audience.Connections, remote, method, args) : undefined;
    if (remote.length < unique.length) await this.local.sendConnections(unique, method, args);
    if (payload) await this.publishing.forward(remote.length === 1 ? this.channels.connection(remote[0]) : this.channels.all, payload);
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
    await this.publishing.forward(unique.length === 1 ? this.channels.group(unique[0]) : this.channels.all, payload);
  }

  async sendUsers(userIdentifiers: readonly string[], method: string, args: readonly unknown[]): Promise<void> {
    if (this.disposed) return;
    const unique = [...new Set(userIdentifiers)];
    if (unique.length === 0) return;
    const payload = this.invocation(Audience.Users, unique, method, args);
    await this.local.sendUsers(unique, method, args);
    await this.publishing.forward(unique.length === 1 ? this.channels.user(unique[0]) : this.channels.all, payload);
  }

  addToGroup(connectionId: string, groupName: string): Promise<void> {
    if (this.groups.holds(connectionId)) return this.groups.add(connectionId, groupName);
    return this.groupCommands.send(GroupAction.Add, connectionId, groupName);
  }

  removeFromGroup(connectionId: string, groupName: string): Promise<void> {
    if (this.groups.holds(connectionId)) return this.groups.remove(connectionId, groupName);
    return this.groupCommands.send(GroupAction.Remove, connectionId, groupName);
  }

  async invokeConnection(connectionId: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const connection = this.local.connection(connectionId);
    if (connection) return connection.invokeClient(method, args);
    return this.clientResults.invoke(connectionId, method, args);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.backplaneHealth.stop();
    this.groupStore.dispose();
    this.clusterState?.dispose();
    this.groupCommands.rejectAll();
    this.clientResults.rejectAll();
    this.relay.rejectAll();
    await Promise.all([closeRedisClient(this.publisher), this.subscriptions.close()]);
    this.backplaneHealth.markClosed();
    await this.local.dispose();
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

  private updateHealth(): void {
    const clusterServesAllSlots = this.clusterState?.current?.state !== 'fail';
    this.backplaneHealth.update(this.publisher.status === 'ready' && this.subscriptions.synced && clusterServesAllSlots);
  }
}
