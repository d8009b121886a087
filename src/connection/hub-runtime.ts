import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';
import type { HubConnectionHandle } from '../lifetime/hub-connection-handle.js';
import type { HubLifetimeManager } from '../lifetime/hub-lifetime-manager.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubDispatcher } from '../hub/hub-dispatcher.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import type { TickClock } from './liveness.js';

/** What every connection of one hub shares. */
export interface HubRuntime {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly protocols: ReadonlyMap<string, HubProtocol>;
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  /** Whether connections may use stateful reconnect when their client asks for it. */
  readonly allowStatefulReconnect: boolean;
  /** How long a groups token lets its connection resume on a node without its state. */
  readonly groupsTokenLifetimeMs: number;
  /** The keep-alive ticker's clock, which stamps what connections send and receive. */
  readonly clock: TickClock;
  callerClients(connectionId: string): HubCallerClients;
  /** Seals a connection's groups for its client to keep; undefined when they do not fit in a token. */
  issueGroupsToken(connection: HubConnectionHandle & HubCallerContext, groups: readonly string[], membershipVersion: number): string | undefined;
  onConnected(caller: HubCallerContext): Promise<void>;
  onDisconnected(caller: HubCallerContext): Promise<void>;
  /** The connection is gone from this node; `ended` unless it was handed off for another node to resume. */
  forget(connection: unknown, ended: boolean): void;
}
