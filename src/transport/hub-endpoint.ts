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
import type { HubProxyRenderer } from '../proxies/hub-proxy-renderer.js';
import { claimConnection } from '../security/connection-claim.js';
import { ConnectionRegistry } from '../security/connection-registry.js';
import { newConnectionId, type ConnectionTokens } from '../security/connection-tokens.js';
import type { Admitted, HubGatekeeper, Refusal } from '../security/hub-gatekeeper.js';
import { redactUrl } from '../security/redact-url.js';
import { HubConnection } from './hub-connection.js';
import type { HubRuntime } from './hub-runtime.js';
import { refuseUpgrade, replyError, replyJson } from './http-replies.js';
import { negotiateResponse } from './negotiate-response.js';

const PROXY_FILES = new Set(['/proxy.js', '/proxy.d.ts']);

/** Largest framing overhead of a message: MessagePack's length prefix (JSON needs one byte). */
const FRAMING_OVERHEAD = 5;

export interface HubEndpointParts {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly negotiateTokenLifetimeMs: number;
  readonly closeOnCredentialExpiry: boolean;
  readonly allowStatefulReconnect: boolean;
  readonly protocols: readonly HubProtocol[];
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly lifecycle: HubLifecycle;
  readonly gatekeeper: HubGatekeeper;
  readonly connectionTokens: ConnectionTokens;
  /** Present when client proxies are on (`proxies: true`). */
  readonly proxies: HubProxyRenderer | undefined;
}

/**
 * One hub's HTTP face: answers negotiate, admits WebSocket upgrades, and keeps the hub's
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
  readonly allowStatefulReconnect: boolean;
  private readonly negotiatePath: string;
  private readonly registry = new ConnectionRegistry();
  /** Live connections by id, with when their token stops mattering for the registry. */
  private readonly connections = new Map<string, { connection: HubConnection; forgetAt: number }>();
  private readonly webSockets: WebSocketServer;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly parts: HubEndpointParts) {
    ({ path: this.path, options: this.options, dispatcher: this.dispatcher, lifetimeManager: this.lifetimeManager, groups: this.groups } = parts);
    this.protocols = new Map(parts.protocols.map((protocol) => [protocol.name, protocol]));
    this.negotiatePath = `${this.path}/negotiate`;
    this.maximumFrameSize = this.options.maximumReceiveMessageSize + FRAMING_OVERHEAD;
    this.allowStatefulReconnect = parts.allowStatefulReconnect;
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

  /** Takes the request if it is this hub's negotiate or proxy; returns false to pass it on. */
  handleRequest(request: IncomingMessage, response: ServerResponse, pathname: string, query: URLSearchParams): boolean {
    let handling: Promise<void>;
    if (pathname === this.negotiatePath) handling = this.negotiate(request, response, query);
    else if (this.parts.proxies && pathname.startsWith(this.path) && PROXY_FILES.has(pathname.slice(this.path.length))) {
      handling = this.serveProxy(request, response, this.parts.proxies, pathname.endsWith('.d.ts'));
    } else return false;
    request.resume();
    handling.catch((error: Error) => {
      HubEndpoint.logger.error(`Request failed on ${redactUrl(request.url)}`, error.stack);
      if (!response.headersSent) replyError(response, 500, 'Internal Server Error');
    });
    return true;
  }

  /** Takes the upgrade if it is for this hub; returns false to pass it on. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, pathname: string, query: URLSearchParams): boolean {
    if (pathname !== this.path) return false;
    this.upgrade(request, socket, head, query).catch((error: Error) => {
      HubEndpoint.logger.error(`Upgrade failed on ${redactUrl(request.url)}`, error.stack);
      refuseUpgrade(socket, 500, 'Internal Server Error');
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
    const entry = this.connections.get(connection.connectionId);
    if (entry?.connection !== connection) return;
    this.connections.delete(connection.connectionId);
    this.registry.markEnded(connection.connectionId, entry.forgetAt);
  }

  /** Closes every connection (clients are told they may reconnect elsewhere) and stops timers. */
  close(done?: () => void): void {
    clearInterval(this.ticker);
    // Deleting from a Map while iterating it is safe: closing connections forget themselves.
    for (const { connection } of this.connections.values()) {
      connection.close({ type: MessageType.Close, allowReconnect: true });
    }
    this.webSockets.close(() => done?.());
    void this.lifetimeManager.dispose().catch((error: Error) => HubEndpoint.logger.error(error.message));
  }

  /** Nest's gateway machinery subscribes to server events; hubs raise none. */
  on(): void {}

  private async negotiate(request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> {
    const { gatekeeper, connectionTokens } = this.parts;
    if (request.method === 'OPTIONS') {
      const preflight = gatekeeper.preflight(request);
      if (isRefusal(preflight)) return replyError(response, preflight.status, preflight.body, preflight.headers);
      response.writeHead(204, preflight).end();
      return;
    }
    const admission = await gatekeeper.admit(request);
    if (!admission.admitted) return replyError(response, admission.status, admission.body, admission.headers);
    if (request.method !== 'POST') {
      return replyError(response, 405, 'Method Not Allowed', { ...admission.corsHeaders, Allow: 'POST' });
    }
    const requestedVersion = Number.parseInt(query.get('negotiateVersion') ?? '0', 10);
    const connection = connectionTokens.issue(this.path, admission.userKey);
    const statefulReconnect = this.allowStatefulReconnect && query.get('useStatefulReconnect') === 'true';
    const body = negotiateResponse(Number.isNaN(requestedVersion) ? 0 : requestedVersion, connection, statefulReconnect);
    replyJson(response, body, admission.corsHeaders);
  }

  /** The proxy differs per user, so it passes the same checks as negotiate and is never cached. */
  private async serveProxy(request: IncomingMessage, response: ServerResponse, proxies: HubProxyRenderer, typings: boolean): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return replyError(response, 405, 'Method Not Allowed', { Allow: 'GET' });
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return replyError(response, admission.status, admission.body, admission.headers);
    const body = typings ? await proxies.typings(admission.user) : await proxies.javascript(admission.user);
    response.writeHead(200, {
      ...admission.corsHeaders,
      'Content-Type': typings ? 'application/typescript; charset=utf-8' : 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-store',
      Vary: 'Authorization, Cookie',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): Promise<void> {
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return refuseUpgrade(socket, admission.status, admission.body);
    const connectionToken = query.get('id');
    const now = Date.now();
    let claim: { connectionId: string; forgetAt: number };
    if (connectionToken === null) {
      // skipNegotiation: the client never negotiated, so the server names the connection.
      claim = { connectionId: newConnectionId(), forgetAt: now };
    } else {
      const checked = claimConnection(connectionToken, admission.userKey, {
        hubPath: this.path,
        tokens: this.parts.connectionTokens,
        registry: this.registry,
        unusedLifetimeMs: this.parts.negotiateTokenLifetimeMs,
        isResumable: (id) => this.connections.get(id)?.connection.isResumable === true,
      });
      if ('admitted' in checked) {
        this.parts.gatekeeper.refuse(request, checked.status, checked.body, 'connection token refused');
        return refuseUpgrade(socket, checked.status, checked.body);
      }
      claim = { connectionId: checked.connectionId, forgetAt: checked.issuedAt + this.parts.negotiateTokenLifetimeMs };
      const resuming = this.connections.get(claim.connectionId)?.connection;
      if (resuming?.isResumable) {
        this.webSockets.handleUpgrade(request, socket, head, (webSocket) => resuming.resume(webSocket));
        return;
      }
    }
    // Admission awaited authentication: the id may have been claimed meanwhile by a racing upgrade.
    if (this.registry.isLive(claim.connectionId)) return refuseUpgrade(socket, 409, 'Connection ID already in use');
    this.registry.markLive(claim.connectionId);
    let accepted = false;
    // ws answers a malformed upgrade itself and never calls back: the id must not stay live.
    socket.once('close', () => accepted || this.registry.markEnded(claim.connectionId, claim.forgetAt));
    this.webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      accepted = true;
      const connection = new HubConnection(webSocket, claim.connectionId, this.identityOf(admission), this);
      this.connections.set(claim.connectionId, { connection, forgetAt: claim.forgetAt });
    });
  }

  private identityOf(admission: Admitted) {
    const { user, userKey, expiresAt } = admission;
    return { user, userIdentifier: userKey, expiresAt: this.parts.closeOnCredentialExpiry ? expiresAt : undefined };
  }

  private tick(): void {
    const now = Date.now();
    for (const { connection } of this.connections.values()) connection.tick(now);
    this.registry.sweep(now);
  }
}

function isRefusal(value: Refusal | Record<string, string>): value is Refusal {
  return (value as Refusal).admitted === false;
}

/** Liveness is checked at a resolution of at most a second, and finer for short timeouts. */
function tickInterval(options: ResolvedHubOptions): number {
  const shortest = Math.min(options.keepAliveIntervalMs, options.clientTimeoutIntervalMs);
  return Math.min(1000, Math.max(10, Math.floor(shortest / 4)));
}
