import type { ConnectionRegistry } from '../security/connection-registry.js';
import type { BackplaneMeter } from '../telemetry/meters.js';
import type { ConnectionRelay } from './connection-relay.js';
import type { HubConnectionHandle } from './hub-connection-handle.js';

/**
 * Routes messages to the connections of one hub: to all, to groups, to users, to ids.
 * Hubs and hub contexts only talk to this interface, so an in-process implementation and a
 * distributed backplane can replace each other without touching application code.
 */
export interface HubLifetimeManager {
  onConnected(connection: HubConnectionHandle): Promise<void>;
  onDisconnected(connection: HubConnectionHandle): Promise<void>;
  sendAll(method: string, args: readonly unknown[], excludedConnectionIds?: readonly string[]): Promise<void>;
  sendConnections(connectionIds: readonly string[], method: string, args: readonly unknown[]): Promise<void>;
  sendGroups(
    groupNames: readonly string[],
    method: string,
    args: readonly unknown[],
    excludedConnectionIds?: readonly string[],
  ): Promise<void>;
  sendUsers(userIdentifiers: readonly string[], method: string, args: readonly unknown[]): Promise<void>;
  addToGroup(connectionId: string, groupName: string): Promise<void>;
  removeFromGroup(connectionId: string, groupName: string): Promise<void>;
  /** Asks one connection for a result (a client handler's return value). */
  invokeConnection(connectionId: string, method: string, args: readonly unknown[]): Promise<unknown>;
  /**
   * The groups a shared store holds for a connection, wherever it lived; undefined without a
   * shared store or when it cannot answer. A connection resuming on another node rejoins these.
   */
  storedGroupsOf?(connectionId: string): Promise<readonly string[] | undefined>;
  /**
   * Where a manager that spans nodes records live and ended connection ids, shared as widely as
   * its routing; the module uses it unless told otherwise. In-process managers have none.
   */
  readonly connectionRegistry?: ConnectionRegistry;
  /**
   * Carries the requests of an SSE or long-polling connection that reach a node other than the
   * one holding it to that node, so that no sticky sessions are needed. In-process managers have none.
   */
  readonly relay?: ConnectionRelay;
  /**
   * A manager with a backplane records its publishes and outages here; called once at start-up,
   * only while the application's OpenTelemetry SDK takes metrics.
   */
  observeBackplane?(meter: BackplaneMeter): void;
  /** Releases timers and subscriptions when the application shuts down. */
  dispose(): Promise<void>;
}

/** Creates the lifetime manager of one hub; replace it in the module options to scale out. */
export type HubLifetimeManagerFactory = (hubPath: string) => HubLifetimeManager;
