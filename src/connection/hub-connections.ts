import { Logger } from '@nestjs/common';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubDispatcher } from '../hub/hub-dispatcher.js';
import type { HubLifecycle } from '../hub/hub-lifecycle.js';
import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';
import type { HubLifetimeManager } from '../lifetime/hub-lifetime-manager.js';
import { LifetimeManagerCallerClients } from '../lifetime/lifetime-manager-clients.js';
import type { ResolvedHubOptions, TransportName } from '../options/hub-options.js';
import type { CanRejoin } from '../options/signalr-module-options.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import type { ConnectionSlot } from '../security/connection-caps.js';
import type { ConnectionRegistry } from '../security/connection-registry.js';
import type { GroupsTokens } from '../security/groups-tokens.js';
import type { ConnectionEnd, HubConnectionsTelemetry, ObservedConnection } from '../telemetry/meters.js';
import { rejoinGroups, type PendingRejoin } from './group-rejoin.js';
import type { ConnectionFeatures, ConnectionIdentity } from './connection-features.js';
import type { FrameChannel } from './frame-channel.js';
import { HubConnection } from './hub-connection.js';
import { KeepAliveWheel } from './keep-alive-wheel.js';
import type { HubRuntime } from './hub-runtime.js';

const logger = new Logger('SignalR:Connection');

export interface HubConnectionsParts {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly allowStatefulReconnect: boolean;
  readonly protocols: readonly HubProtocol[];
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly lifecycle: HubLifecycle;
  readonly registry: ConnectionRegistry;
  readonly groupsTokens: GroupsTokens;
  readonly groupsTokenLifetimeMs: number;
  readonly canRejoin: CanRejoin;
  /** Present while the application's OpenTelemetry SDK takes metrics or traces. */
  readonly telemetry?: HubConnectionsTelemetry;
}

/** What the set keeps beside each live connection. */
interface Entry {
  readonly connection: HubConnection;
  /** When its connection token stops mattering for the registry. */
  readonly forgetAt: number;
  /** Its place under the node's caps, held from its first socket to its end. */
  readonly slot: ConnectionSlot;
  readonly observed: ObservedConnection | undefined;
  /** Ends what the transport holds for the connection beyond its socket (a relay subscription). */
  readonly release: (() => void) | undefined;
}

/**
 * The live connections of one hub, and what they share: the runtime every connection is built
 * on, their keep-alive ticker and its wheel, and what their end records. Transports hand it sockets they admitted.
 */
export class HubConnections implements HubRuntime {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly protocols: ReadonlyMap<string, HubProtocol>;
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly allowStatefulReconnect: boolean;
  readonly groupsTokenLifetimeMs: number;
  private readonly connections = new Map<string, Entry>();
  /** Taken-over connections by id, until their groups are restored in onConnected. */
  private readonly pendingRejoins = new Map<string, PendingRejoin>();
  /** Warned about once each: how often a connection's groups outgrow a token is its client's choice. */
  private readonly warnedGroupsDoNotFit = new WeakSet<HubConnection>();
  readonly clock: { now: number; readonly resolutionMs: number };
  private readonly wheel: KeepAliveWheel<HubConnection>;
  private readonly ticker: NodeJS.Timeout;
  /** The node shuts down: connections end with it. */
  private closing = false;

  constructor(private readonly parts: HubConnectionsParts) {
    ({ path: this.path, options: this.options, dispatcher: this.dispatcher, lifetimeManager: this.lifetimeManager, groups: this.groups } = parts);
    this.protocols = new Map(parts.protocols.map((protocol) => [protocol.name, protocol]));
    this.allowStatefulReconnect = parts.allowStatefulReconnect;
    this.groupsTokenLifetimeMs = parts.groupsTokenLifetimeMs;
    const tickMs = tickInterval(this.options);
    this.clock = { now: Date.now(), resolutionMs: tickMs };
    // A connection is due at most a keep-alive interval, or a client timeout and a tick, ahead.
    this.wheel = new KeepAliveWheel(tickMs, Math.max(this.options.keepAliveIntervalMs, this.options.clientTimeoutIntervalMs + tickMs));
    this.ticker = setInterval(() => this.tick(), tickMs);
    this.ticker.unref();
    // Another node takes a connection this node holds: it ends here first, so that one id never has two sockets.
    parts.registry.onYield?.((connectionId) => this.connections.get(connectionId)?.connection.yieldToAnotherNode());
  }

  /** Starts a connection on an admitted socket; it keeps `slot` (and what `release` lets go of) until it is forgotten. */
  open(
    channel: FrameChannel,
    connectionId: string,
    identity: ConnectionIdentity,
    features: ConnectionFeatures,
    forgetAt: number,
    slot: ConnectionSlot,
    release?: () => void,
  ): HubConnection {
    // Every transport hands its connections over here: where ASP.NET Core counts a transport's start.
    const observed = this.parts.telemetry?.opened(identity.request);
    const connection = new HubConnection(channel, connectionId, identity, this, features, observed?.meter);
    observed?.track(connection);
    this.connections.set(connectionId, { connection, forgetAt, slot, observed, release });
    this.wheel.schedule(connection, this.clock.now, this.clock.now);
    return connection;
  }

  /** The connection, if this node holds it. */
  get(connectionId: string): HubConnection | undefined {
    return this.connections.get(connectionId)?.connection;
  }

  has(connectionId: string): boolean {
    return this.connections.has(connectionId);
  }

  /** The transport of the connection, if this node holds it. */
  transportOf(connectionId: string): TransportName | undefined {
    return this.connections.get(connectionId)?.connection.request.transport;
  }

  /** The connection, if this node holds it and a new socket may take it over (stateful reconnect). */
  resumable(connectionId: string): HubConnection | undefined {
    const connection = this.connections.get(connectionId)?.connection;
    return connection?.isResumable ? connection : undefined;
  }

  /** A connection about to be taken over rejoins these groups once it connects. */
  expectRejoin(connectionId: string, pending: PendingRejoin): void {
    this.pendingRejoins.set(connectionId, pending);
  }

  cancelRejoin(connectionId: string): void {
    this.pendingRejoins.delete(connectionId);
  }

  callerClients(connectionId: string): HubCallerClients {
    return new LifetimeManagerCallerClients(this.lifetimeManager, connectionId);
  }

  async onConnected(caller: HubCallerContext): Promise<void> {
    const pending = this.pendingRejoins.get(caller.connectionId);
    if (pending) {
      this.pendingRejoins.delete(caller.connectionId);
      const { path: hubPath, lifetimeManager, groups } = this;
      await rejoinGroups(caller, pending, { hubPath, lifetimeManager, groups, canRejoin: this.parts.canRejoin });
    }
    await this.parts.lifecycle.onConnected(caller);
  }

  onDisconnected(caller: HubCallerContext): Promise<void> {
    return this.parts.lifecycle.onDisconnected(caller);
  }

  onAuthenticationRefreshed(caller: HubCallerContext): Promise<void> {
    return this.parts.lifecycle.onAuthenticationRefreshed(caller);
  }

  forget(connection: HubConnection, ended: boolean): void {
    const entry = this.connections.get(connection.connectionId);
    if (entry?.connection !== connection) return;
    this.connections.delete(connection.connectionId);
    this.wheel.remove(connection);
    entry.slot.release();
    entry.release?.();
    entry.observed?.closed(this.endOf(connection));
    if (ended) this.recordEnd(connection.connectionId, entry.forgetAt, connection.resumableElsewhere);
  }

  issueGroupsToken(connection: HubConnection, groups: readonly string[], membershipVersion: number): string | undefined {
    const { connectionId, userIdentifier: userKey } = connection;
    // Recorded whether or not a token can carry the groups: an older token must never look current.
    this.parts.registry.recordMembership(connectionId, membershipVersion, this.groupsTokenLifetimeMs).catch(logRegistryFailure);
    let token: string;
    try {
      token = this.parts.groupsTokens.issue(
        { connectionId, userKey, hubPath: this.path, groups, membershipVersion, protocol: connection.protocolName! },
        this.groupsTokenLifetimeMs,
      );
    } catch {
      if (!this.warnedGroupsDoNotFit.has(connection)) {
        this.warnedGroupsDoNotFit.add(connection);
        logger.warn(`The ${groups.length} groups of a connection do not fit in a groups token; its client keeps the previous one (said once per connection).`);
      }
      return undefined;
    }
    return token;
  }

  /**
   * An ended id is refused for as long as a token could open it again: its connection token's
   * unused lifetime, or, for a client that held groups tokens, their lifetime.
   */
  recordEnd(connectionId: string, forgetAt: number, resumableElsewhere: boolean): void {
    const keepMs = Math.max(forgetAt - Date.now(), resumableElsewhere ? this.groupsTokenLifetimeMs : 0);
    if (keepMs > 0) this.parts.registry.end(connectionId, keepMs).catch(logRegistryFailure);
  }

  /**
   * The node shuts down: clients that can resume on another node lose only their socket; the
   * others are told they may reconnect.
   */
  close(): void {
    this.closing = true;
    clearInterval(this.ticker);
    // Deleting from a Map while iterating it is safe: closing connections forget themselves.
    for (const { connection } of this.connections.values()) connection.handOff();
    void this.parts.registry.dispose().catch(logRegistryFailure);
    void this.lifetimeManager.dispose().catch((error: Error) => logger.error(error.message));
  }

  private endOf(connection: HubConnection): ConnectionEnd {
    if (this.closing) return 'app_shutdown';
    return connection.timedOut ? 'timeout' : 'normal_closure';
  }

  private tick(): void {
    const now = (this.clock.now = Date.now());
    this.wheel.advance(now, (connection) => connection.tick(now));
  }
}

function logRegistryFailure(error: Error): void {
  logger.warn(`The connection registry failed: ${error.message}`);
}

/** Liveness is checked at a resolution of at most a second, and finer for short timeouts. */
function tickInterval(options: ResolvedHubOptions): number {
  const shortest = Math.min(options.keepAliveIntervalMs, options.clientTimeoutIntervalMs);
  return Math.min(1000, Math.max(10, Math.floor(shortest / 4)));
}
