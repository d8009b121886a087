import type { GroupManager, HubCallerClients } from '../clients/client-proxy.js';
import type { HubLifetimeManager } from '../clients/hub-lifetime-manager.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubDispatcher } from '../hub/hub-dispatcher.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';

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
  /** Largest frame accepted after the handshake: the message limit plus framing bytes. */
  readonly maximumFrameSize: number;
  callerClients(connectionId: string): HubCallerClients;
  onConnected(caller: HubCallerContext): Promise<void>;
  onDisconnected(caller: HubCallerContext): Promise<void>;
  /** The connection has ended; stop tracking it. */
  forget(connection: unknown): void;
}
