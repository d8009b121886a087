import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import { MessageType } from '../protocol/hub-message.js';
import { assertRoomForGroup } from './group-limit.js';
import type { HubConnectionHandle } from './hub-connection-handle.js';
import type { HubLifetimeManager } from './hub-lifetime-manager.js';
import { SerializedHubMessage } from '../protocol/serialized-hub-message.js';

/**
 * Routes within one process: enough for a single node, and the local core of a backplane, which
 * asks it who is here (the queries below) instead of keeping a second record of its own.
 */
export class InProcessLifetimeManager implements HubLifetimeManager {
  private readonly connections = new Map<string, HubConnectionHandle>();
  private readonly groups = new Map<string, Set<HubConnectionHandle>>();
  private readonly groupsOfConnection = new Map<string, Set<string>>();
  private readonly users = new Map<string, Set<HubConnectionHandle>>();

  /** The groups of every connection here that is in at least one, by connection id. */
  get connectionGroups(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.groupsOfConnection;
  }

  connection(connectionId: string): HubConnectionHandle | undefined {
    return this.connections.get(connectionId);
  }

  /** The groups of a connection here; undefined when it is in none (or not here). */
  groupsOf(connectionId: string): ReadonlySet<string> | undefined {
    return this.groupsOfConnection.get(connectionId);
  }

  hasGroupMembers(groupName: string): boolean {
    return this.groups.has(groupName);
  }

  hasUserConnections(userIdentifier: string): boolean {
    return this.users.has(userIdentifier);
  }

  async onConnected(connection: HubConnectionHandle): Promise<void> {
    this.connections.set(connection.connectionId, connection);
    if (connection.userIdentifier !== undefined) addToIndex(this.users, connection.userIdentifier, connection);
  }

  async onDisconnected(connection: HubConnectionHandle): Promise<void> {
    // A late end of a connection whose id a newer one holds now leaves the newer one in place.
    if (this.connections.get(connection.connectionId) !== connection) return;
    this.connections.delete(connection.connectionId);
    if (connection.userIdentifier !== undefined) removeFromIndex(this.users, connection.userIdentifier, connection);
    for (const groupName of this.groupsOfConnection.get(connection.connectionId) ?? []) {
      removeFromIndex(this.groups, groupName, connection);
    }
    this.groupsOfConnection.delete(connection.connectionId);
  }

  async sendAll(method: string, args: readonly unknown[], excludedConnectionIds?: readonly string[]): Promise<void> {
    const message = invocation(method, args);
    const excluded = excludedConnectionIds?.length ? new Set(excludedConnectionIds) : undefined;
    for (const connection of this.connections.values()) {
      if (!excluded?.has(connection.connectionId)) connection.write(message);
    }
  }

  async sendConnections(connectionIds: readonly string[], method: string, args: readonly unknown[]): Promise<void> {
    const message = invocation(method, args);
    for (const connectionId of new Set(connectionIds)) this.connections.get(connectionId)?.write(message);
  }

  async sendGroups(
    groupNames: readonly string[],
    method: string,
    args: readonly unknown[],
    excludedConnectionIds?: readonly string[],
  ): Promise<void> {
    this.sendToIndexed(this.groups, groupNames, invocation(method, args), excludedConnectionIds);
  }

  async sendUsers(userIdentifiers: readonly string[], method: string, args: readonly unknown[]): Promise<void> {
    this.sendToIndexed(this.users, userIdentifiers, invocation(method, args));
  }

  async addToGroup(connectionId: string, groupName: string): Promise<void> {
    this.join(connectionId, groupName);
  }

  async removeFromGroup(connectionId: string, groupName: string): Promise<void> {
    this.leave(connectionId, groupName);
  }

  /**
   * Puts a connection here in a group at once; true when it was not in it yet. Refuses a join
   * past the connection's group limit; a connection not here is left alone.
   */
  join(connectionId: string, groupName: string): boolean {
    const connection = this.connections.get(connectionId);
    if (!connection) return false;
    let names = this.groupsOfConnection.get(connectionId);
    assertRoomForGroup(connection, names, groupName);
    if (names?.has(groupName)) return false;
    addToIndex(this.groups, groupName, connection);
    if (!names) this.groupsOfConnection.set(connectionId, (names = new Set()));
    names.add(groupName);
    connection.membershipChanged?.(groupName, true);
    return true;
  }

  /** Takes a connection here out of a group at once; true when it was in it. */
  leave(connectionId: string, groupName: string): boolean {
    const connection = this.connections.get(connectionId);
    const names = this.groupsOfConnection.get(connectionId);
    if (!connection || !names?.delete(groupName)) return false;
    if (names.size === 0) this.groupsOfConnection.delete(connectionId);
    removeFromIndex(this.groups, groupName, connection);
    connection.membershipChanged?.(groupName, false);
    return true;
  }

  invokeConnection(connectionId: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const connection = this.connections.get(connectionId);
    if (!connection) {
      return Promise.reject(
        new SignalRError(SignalRErrorCode.ConnectionNotFound, `Connection '${connectionId}' does not exist.`),
      );
    }
    return connection.invokeClient(method, args);
  }

  async dispose(): Promise<void> {
    this.connections.clear();
    this.groups.clear();
    this.groupsOfConnection.clear();
    this.users.clear();
  }

  private sendToIndexed(
    index: Map<string, Set<HubConnectionHandle>>,
    keys: readonly string[],
    message: SerializedHubMessage,
    excludedConnectionIds?: readonly string[],
  ): void {
    const excluded = excludedConnectionIds?.length ? new Set(excludedConnectionIds) : undefined;
    // A connection reached through several keys still receives the message once.
    const reached = keys.length > 1 ? new Set<HubConnectionHandle>() : undefined;
    for (const key of keys) {
      for (const connection of index.get(key) ?? []) {
        if (excluded?.has(connection.connectionId) || reached?.has(connection)) continue;
        reached?.add(connection);
        connection.write(message);
      }
    }
  }
}

function invocation(method: string, args: readonly unknown[]): SerializedHubMessage {
  return new SerializedHubMessage({ type: MessageType.Invocation, target: method, arguments: args });
}

function addToIndex<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let members = index.get(key);
  if (!members) index.set(key, (members = new Set()));
  members.add(value);
}

function removeFromIndex<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const members = index.get(key);
  if (!members) return;
  members.delete(value);
  if (members.size === 0) index.delete(key);
}
