import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { GroupManager, HubCallerClients } from '../clients/client-proxy.js';
import type { HubLifetimeManager } from '../clients/hub-lifetime-manager.js';
import { LifetimeManagerCallerClients } from '../clients/lifetime-manager-clients.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubDispatcher } from '../hub/hub-dispatcher.js';
import type { HubLifecycle } from '../hub/hub-lifecycle.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import { MessageType } from '../protocol/hub-message.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import { ConnectionTokenStore, newRandomId } from './connection-token-store.js';
import { HubConnection } from './hub-connection.js';
import type { HubRuntime } from './hub-runtime.js';
import { refuseUpgrade, replyError, replyJson } from './http-replies.js';
import { negotiateResponse } from './negotiate-response.js';

/** Largest framing overhead of a message: MessagePack's length prefix (JSON needs one byte). */
const FRAMING_OVERHEAD = 5;

export interface HubEndpointParts {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly negotiateTokenLifetimeMs: number;
  readonly protocols: readonly HubProtocol[];
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly lifecycle: HubLifecycle;
}

/**
 * One hub's HTTP face: answers negotiate, accepts WebSocket upgrades, and keeps the hub's
 * connections alive. The adapter routes requests here by path.
 */
export class HubEndpoint implements HubRuntime {
  private static readonly logger = new Logger('SignalR:Endpoint');
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly protocols: ReadonlyMap<string, HubProtocol>;
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly maximumFrameSize: number;
  private readonly negotiatePath: string;
  private readonly tokens: ConnectionTokenStore;
  private readonly connections = new Map<HubConnection, string | undefined>();
  private readonly webSockets: WebSocketServer;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly parts: HubEndpointParts) {
    ({ path: this.path, options: this.options, dispatcher: this.dispatcher, lifetimeManager: this.lifetimeManager, groups: this.groups } = parts);
    this.protocols = new Map(parts.protocols.map((protocol) => [protocol.name, protocol]));
    this.negotiatePath = `${this.path}/negotiate`;
    this.tokens = new ConnectionTokenStore(parts.negotiateTokenLifetimeMs);
    this.maximumFrameSize = this.options.maximumReceiveMessageSize + FRAMING_OVERHEAD;
    this.webSockets = new WebSocketServer({
      noServer: true,
      // Frames up to twice the limit are read so that the protocol can answer them with a Close
      // message; anything larger is refused by ws from its header, before it is buffered.
      maxPayload: 2 * this.maximumFrameSize,
      perMessageDeflate: false,
    });
    this.ticker = setInterval(() => this.tick(), tickInterval(this.options));
    this.ticker.unref();
  }

  /** Answers the request if it is this hub's negotiate; returns false to pass it on. */
  handleRequest(request: IncomingMessage, response: ServerResponse, pathname: string, query: URLSearchParams): boolean {
    if (pathname !== this.negotiatePath) return false;
    request.resume();
    if (request.method !== 'POST') {
      replyError(response, 405, 'Method Not Allowed', { Allow: 'POST' });
      return true;
    }
    const requestedVersion = Number.parseInt(query.get('negotiateVersion') ?? '0', 10);
    replyJson(response, negotiateResponse(Number.isNaN(requestedVersion) ? 0 : requestedVersion, this.tokens.issue()));
    return true;
  }

  /** Takes the upgrade if it is for this hub; returns false to pass it on. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, pathname: string, query: URLSearchParams): boolean {
    if (pathname !== this.path) return false;
    const connectionToken = query.get('id');
    let connectionId: string;
    if (connectionToken === null) {
      // skipNegotiation: the client never negotiated, so the server names the connection.
      connectionId = newRandomId();
    } else {
      const claim = this.tokens.claim(connectionToken);
      if (claim.outcome === 'unknown') {
        refuseUpgrade(socket, 404, 'No Connection with that ID');
        return true;
      }
      if (claim.outcome === 'in-use') {
        refuseUpgrade(socket, 409, 'Connection ID already in use');
        return true;
      }
      connectionId = claim.connectionId;
    }
    this.webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      const connection = new HubConnection(webSocket, connectionId, undefined, undefined, this);
      this.connections.set(connection, connectionToken ?? undefined);
    });
    return true;
  }

  callerClients(connectionId: string): HubCallerClients {
    return new LifetimeManagerCallerClients(this.lifetimeManager, connectionId);
  }

  onConnected(caller: HubCallerContext): Promise<void> {
    return this.parts.lifecycle.onConnected(caller);
  }

  onDisconnected(caller: HubCallerContext): Promise<void> {
    return this.parts.lifecycle.onDisconnected(caller);
  }

  forget(connection: HubConnection): void {
    const token = this.connections.get(connection);
    this.connections.delete(connection);
    if (token !== undefined) this.tokens.release(token);
  }

  /** Closes every connection (clients are told they may reconnect elsewhere) and stops timers. */
  close(done?: () => void): void {
    clearInterval(this.ticker);
    // Deleting from a Map while iterating it is safe: closing connections forget themselves.
    for (const connection of this.connections.keys()) {
      connection.close({ type: MessageType.Close, allowReconnect: true });
    }
    this.webSockets.close(() => done?.());
    void this.lifetimeManager.dispose().catch((error: Error) => HubEndpoint.logger.error(error.message));
  }

  /** Nest's gateway machinery subscribes to server events; hubs raise none. */
  on(): void {}

  private tick(): void {
    const now = Date.now();
    for (const connection of this.connections.keys()) connection.tick(now);
    this.tokens.sweepExpired(now);
  }
}

/** Liveness is checked at a resolution of at most a second, and finer for short timeouts. */
function tickInterval(options: ResolvedHubOptions): number {
  const shortest = Math.min(options.keepAliveIntervalMs, options.clientTimeoutIntervalMs);
  return Math.min(1000, Math.max(10, Math.floor(shortest / 4)));
}
