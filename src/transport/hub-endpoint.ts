import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { GroupManager, HubCallerClients } from '../lifetime/client-proxy.js';
import type { HubLifetimeManager } from '../lifetime/hub-lifetime-manager.js';
import { LifetimeManagerCallerClients } from '../lifetime/lifetime-manager-clients.js';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubDispatcher } from '../hub/hub-dispatcher.js';
import type { HubLifecycle } from '../hub/hub-lifecycle.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import type { HubProtocol } from '../protocol/hub-protocol.js';
import type { HubProxyRenderer } from '../proxies/hub-proxy-renderer.js';
import type { ConnectionCaps, ConnectionSlot } from '../security/connection-caps.js';
import { claimConnection, claimResumption } from '../security/connection-claim.js';
import type { ConnectionRegistry } from '../security/connection-registry.js';
import { newConnectionId, type ConnectionTokens } from '../security/connection-tokens.js';
import type { GroupsTokens } from '../security/groups-tokens.js';
import type { Admitted, HubGatekeeper, Refusal } from '../security/hub-gatekeeper.js';
import { redactUrl } from '../security/redact-url.js';
import { rejoinGroups, type PendingRejoin } from '../connection/group-rejoin.js';
import type { CanRejoin } from '../options/signalr-module-options.js';
import { HubConnection, type ConnectionFeatures } from '../connection/hub-connection.js';
import type { HubRuntime } from '../connection/hub-runtime.js';
import { refuseUpgrade, replyError, replyJson } from './http-replies.js';
import { negotiateResponse } from './negotiate-response.js';

const logger = new Logger('SignalR:Endpoint');

const PROXY_FILES = new Set(['/proxy.js', '/proxy.d.ts']);

/** Query parameters of the client extension: the opt-in on the hub URL, and a resumption's. */
export const GROUPS_TOKEN_OPT_IN = 'groupsToken';
export const RESUME_PARAMETER = 'resume';
export const RECEIVED_PARAMETER = 'received';

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
  readonly registry: ConnectionRegistry;
  readonly groupsTokens: GroupsTokens;
  readonly groupsTokenLifetimeMs: number;
  readonly canRejoin: CanRejoin;
  /** The node's connection caps, shared by every hub of the module. */
  readonly caps: ConnectionCaps;
  /** Present when client proxies are on (`proxies: true`). */
  readonly proxies: HubProxyRenderer | undefined;
}

/**
 * One hub's HTTP face: answers negotiate, admits WebSocket upgrades, and keeps the hub's
 * connections alive. The adapter routes requests here by path.
 */
export class HubEndpoint implements HubRuntime {
  readonly path: string;
  readonly options: ResolvedHubOptions;
  readonly protocols: ReadonlyMap<string, HubProtocol>;
  readonly dispatcher: HubDispatcher;
  readonly lifetimeManager: HubLifetimeManager;
  readonly groups: GroupManager;
  readonly allowStatefulReconnect: boolean;
  readonly groupsTokenLifetimeMs: number;
  private readonly negotiatePath: string;
  private readonly registry: ConnectionRegistry;
  /** Taken-over connections by id, until their groups are restored in onConnected. */
  private readonly pendingRejoins = new Map<string, PendingRejoin>();
  /** Connections whose groups did not fit in a groups token, warned about once each: how often is the client's choice. */
  private readonly warnedGroupsDoNotFit = new WeakSet<HubConnection>();
  /** Live connections by id, with when their token stops mattering for the registry, and their slot under the caps. */
  private readonly connections = new Map<string, { connection: HubConnection; forgetAt: number; slot: ConnectionSlot }>();
  private readonly webSockets: WebSocketServer;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly parts: HubEndpointParts) {
    ({ path: this.path, options: this.options, dispatcher: this.dispatcher, lifetimeManager: this.lifetimeManager, groups: this.groups } = parts);
    this.protocols = new Map(parts.protocols.map((protocol) => [protocol.name, protocol]));
    this.negotiatePath = `${this.path}/negotiate`;
    this.allowStatefulReconnect = parts.allowStatefulReconnect;
    this.groupsTokenLifetimeMs = parts.groupsTokenLifetimeMs;
    this.registry = parts.registry;
    this.webSockets = new WebSocketServer({
      noServer: true,
      // A larger frame is refused by ws from its header, before it is buffered (close 1009).
      maxPayload: this.options.maximumReceiveFrameSize,
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
      logger.error(`Request failed on ${redactUrl(request.url)}`, error.stack);
      if (!response.headersSent) replyError(response, 500, 'Internal Server Error');
    });
    return true;
  }

  /** Takes the upgrade if it is for this hub; returns false to pass it on. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, pathname: string, query: URLSearchParams): boolean {
    if (pathname !== this.path) return false;
    this.upgrade(request, socket, head, query).catch((error: Error) => {
      logger.error(`Upgrade failed on ${redactUrl(request.url)}`, error.stack);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    });
    return true;
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

  forget(connection: HubConnection, ended: boolean): void {
    const entry = this.connections.get(connection.connectionId);
    if (entry?.connection !== connection) return;
    this.connections.delete(connection.connectionId);
    entry.slot.release();
    if (ended) this.recordEnd(connection.connectionId, entry.forgetAt, connection.resumableElsewhere);
  }

  issueGroupsToken(connection: HubConnection, groups: readonly string[], membershipVersion: number): string | undefined {
    const { connectionId, userIdentifier: userKey } = connection;
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
    this.registry.recordMembership(connectionId, membershipVersion, this.groupsTokenLifetimeMs).catch(logRegistryFailure);
    return token;
  }

  /**
   * Closes every connection and stops timers. Clients that can resume on another node lose only
   * their socket; the others are told they may reconnect.
   */
  close(done?: () => void): void {
    clearInterval(this.ticker);
    // Deleting from a Map while iterating it is safe: closing connections forget themselves.
    for (const { connection } of this.connections.values()) connection.handOff();
    this.webSockets.close(() => done?.());
    void this.registry.dispose().catch(logRegistryFailure);
    void this.lifetimeManager.dispose().catch((error: Error) => logger.error(error.message));
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
    // Refused before a token exists; the upgrade checks again, and takes the slot.
    const overCap = this.parts.caps.check(this.path, admission.userKey, admission.address);
    if (overCap) return replyError(response, overCap.status, overCap.body, { ...admission.corsHeaders, ...overCap.headers });
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
    const features: ConnectionFeatures = { groupsTokens: query.get(GROUPS_TOKEN_OPT_IN) === 'true' };
    const connectionToken = query.get('id');
    // skipNegotiation: the client never negotiated, so the server names the connection.
    if (connectionToken === null) {
      return this.holdingSlot(socket, admission, (slot) =>
        this.accept(request, socket, head, admission, newConnectionId(), Date.now(), features, slot),
      );
    }
    const resumeToken = query.get(RESUME_PARAMETER);
    if (resumeToken !== null && !this.holds(connectionToken)) {
      const received = query.get(RECEIVED_PARAMETER);
      return this.holdingSlot(socket, admission, (slot) =>
        this.takeOver(request, socket, head, admission, connectionToken, resumeToken, received, slot),
      );
    }
    const checked = claimConnection(connectionToken, admission.userKey, {
      hubPath: this.path,
      tokens: this.parts.connectionTokens,
      unusedLifetimeMs: this.parts.negotiateTokenLifetimeMs,
      isResumable: (id) => this.connections.get(id)?.connection.isResumable === true,
      isLive: (id) => this.connections.has(id),
    });
    if ('admitted' in checked) return this.refuse(request, socket, checked.status, checked.body, 'connection token refused');
    const resuming = this.connections.get(checked.connectionId)?.connection;
    // The connection holds its slot from its first socket to its end, across every reconnect.
    if (resuming?.isResumable) {
      this.webSockets.handleUpgrade(request, socket, head, (webSocket) => resuming.resume(webSocket, this.identityOf(admission).expiresAt));
      return;
    }
    return this.holdingSlot(socket, admission, async (slot) => {
      const forgetAt = checked.issuedAt + this.parts.negotiateTokenLifetimeMs;
      // Admission awaited authentication: the id may have been claimed meanwhile, here or on another node.
      const claimed = await this.registry.claim(checked.connectionId, forgetAt - Date.now());
      if (claimed === 'live') return this.refuse(request, socket, 409, 'Connection ID already in use', 'connection id in use');
      if (claimed === 'ended') return this.refuse(request, socket, 404, 'No Connection with that ID', 'connection ended');
      return this.accept(request, socket, head, admission, checked.connectionId, forgetAt, features, slot);
    });
  }

  /**
   * Runs `start` holding a slot under the caps, taken before the registry hears of the id: the
   * connection `start` opens keeps the slot until it is forgotten; a refusal gives it back.
   */
  private async holdingSlot(
    socket: Duplex,
    admission: Admitted,
    start: (slot: ConnectionSlot) => Promise<HubConnection | void>,
  ): Promise<void> {
    const slot = this.parts.caps.take(this.path, admission.userKey, admission.address);
    if (!slot.admitted) return refuseUpgrade(socket, slot.status, slot.body, slot.headers);
    let connection: HubConnection | void = undefined;
    try {
      connection = await start(slot);
    } finally {
      if (!connection) slot.release();
    }
  }

  /**
   * A stateful reconnect reaching a node that does not hold the connection: the node that did
   * restarted, or the load balancer chose another one. Resumed only with a valid groups token,
   * and never once the connection ended anywhere the registry can see.
   */
  private async takeOver(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: Admitted,
    connectionToken: string,
    resumeToken: string,
    received: string | null,
    slot: ConnectionSlot,
  ): Promise<HubConnection | void> {
    const claims = claimResumption(connectionToken, resumeToken, admission.userKey, {
      hubPath: this.path,
      tokens: this.parts.connectionTokens,
      groupsTokens: this.parts.groupsTokens,
    });
    if ('admitted' in claims) return this.refuse(request, socket, claims.status, claims.body, `resumption refused: ${claims.reason}`);
    const protocol = this.protocols.get(claims.protocol);
    const receivedByClient = received === null ? Number.NaN : Number(received);
    if (!protocol || !Number.isSafeInteger(receivedByClient) || receivedByClient < 0) {
      return this.refuse(request, socket, 400, 'Bad Request', 'resumption without a valid received count');
    }
    let taken: Awaited<ReturnType<ConnectionRegistry['takeOver']>>;
    try {
      taken = await this.registry.takeOver(claims.connectionId, this.groupsTokenLifetimeMs);
    } catch (error) {
      logger.warn(`Cannot resume a connection while the connection registry is unreachable: ${(error as Error).message}`);
      return refuseUpgrade(socket, 503, 'Service Unavailable');
    }
    if (taken === 'ended') return this.refuse(request, socket, 404, 'No Connection with that ID', 'resumption of an ended connection');
    // Two sockets may race to resume the same connection on this node: the first one wins.
    if (this.connections.has(claims.connectionId)) return this.refuse(request, socket, 409, 'Connection ID already in use', 'connection id in use');
    const recordedVersion = taken.membershipVersion;
    const membershipVersion = Math.max(claims.membershipVersion, recordedVersion ?? 0);
    const features: ConnectionFeatures = { groupsTokens: true, takeover: { protocol, receivedByClient, membershipVersion } };
    this.pendingRejoins.set(claims.connectionId, { claims, recordedVersion });
    const accepted = await this.accept(request, socket, head, admission, claims.connectionId, Date.now(), features, slot);
    if (!accepted) this.pendingRejoins.delete(claims.connectionId);
    return accepted;
  }

  /** Upgrades the socket and starts the connection; resolves with it once the socket is open. */
  private accept(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: Admitted,
    connectionId: string,
    forgetAt: number,
    features: ConnectionFeatures,
    slot: ConnectionSlot,
  ): Promise<HubConnection | undefined> {
    return new Promise((resolve) => {
      let accepted = false;
      // ws answers a malformed upgrade itself and never calls back: the id must not stay live.
      socket.once('close', () => {
        if (accepted) return;
        this.recordEnd(connectionId, forgetAt, false);
        resolve(undefined);
      });
      this.webSockets.handleUpgrade(request, socket, head, (webSocket) => {
        accepted = true;
        const connection = new HubConnection(webSocket, connectionId, this.identityOf(admission), this, features);
        this.connections.set(connectionId, { connection, forgetAt, slot });
        resolve(connection);
      });
    });
  }

  private refuse(request: IncomingMessage, socket: Duplex, status: number, body: string, reason: string): void {
    this.parts.gatekeeper.refuse(request, status, body, reason);
    refuseUpgrade(socket, status, body);
  }

  /** Whether this node holds the connection a token names (a plain stateful reconnect). */
  private holds(connectionToken: string): boolean {
    const claims = this.parts.connectionTokens.open(connectionToken);
    return claims !== undefined && this.connections.has(claims.connectionId);
  }

  /**
   * An ended id is refused for as long as a token could open it again: its connection token's
   * unused lifetime, or, for a client that held groups tokens, their lifetime.
   */
  private recordEnd(connectionId: string, forgetAt: number, resumableElsewhere: boolean): void {
    const keepMs = Math.max(forgetAt - Date.now(), resumableElsewhere ? this.groupsTokenLifetimeMs : 0);
    if (keepMs > 0) this.registry.end(connectionId, keepMs).catch(logRegistryFailure);
  }

  private identityOf(admission: Admitted) {
    const { user, userKey, expiresAt } = admission;
    return { user, userIdentifier: userKey, expiresAt: this.parts.closeOnCredentialExpiry ? expiresAt : undefined };
  }

  private tick(): void {
    const now = Date.now();
    for (const { connection } of this.connections.values()) connection.tick(now);
  }
}

function logRegistryFailure(error: Error): void {
  logger.warn(`The connection registry failed: ${error.message}`);
}

function isRefusal(value: Refusal | Record<string, string>): value is Refusal {
  return (value as Refusal).admitted === false;
}

/** Liveness is checked at a resolution of at most a second, and finer for short timeouts. */
function tickInterval(options: ResolvedHubOptions): number {
  const shortest = Math.min(options.keepAliveIntervalMs, options.clientTimeoutIntervalMs);
  return Math.min(1000, Math.max(10, Math.floor(shortest / 4)));
}
