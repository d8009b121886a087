import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ConnectionFeatures, ConnectionIdentity } from '../connection/connection-features.js';
import type { HubConnection } from '../connection/hub-connection.js';
import type { HubConnections } from '../connection/hub-connections.js';
import type { ConnectionCaps, ConnectionSlot } from '../security/connection-caps.js';
import { claimConnection, claimResumption, CONNECTION_IN_USE, UNKNOWN_CONNECTION } from '../security/connection-claim.js';
import type { ConnectionRegistry } from '../security/connection-registry.js';
import { newConnectionId, type ConnectionTokenClaims, type ConnectionTokens } from '../security/connection-tokens.js';
import type { GroupsTokens } from '../security/groups-tokens.js';
import type { Admitted, HubGatekeeper } from '../security/hub-gatekeeper.js';
import { transportErrors } from '../errors/transport-errors.js';
import { claimNewId, holdingSlot } from './connection-opening.js';
import type { ConnectionRequestCapture } from './connection-request-capture.js';
import { refuseUpgrade } from './http-replies.js';

const logger = new Logger('SignalR:Endpoint');

/** Query parameters of the client extension: the opt-in on the hub URL, and a resumption's. */
export const GROUPS_TOKEN_OPT_IN = 'groupsToken';
export const RESUME_PARAMETER = 'resume';
export const RECEIVED_PARAMETER = 'received';

/** Told to a client whose upgrade ws refused, in case its WebSocket version was the reason. */
const VERSIONS_SPOKEN = { 'Sec-WebSocket-Version': '13, 8' };

export interface WebSocketTransportParts {
  readonly path: string;
  readonly connections: HubConnections;
  readonly gatekeeper: HubGatekeeper;
  readonly connectionTokens: ConnectionTokens;
  readonly groupsTokens: GroupsTokens;
  readonly registry: ConnectionRegistry;
  /** The node's connection caps, shared by every hub of the module. */
  readonly caps: ConnectionCaps;
  readonly negotiateTokenLifetimeMs: number;
  /** Whether an upgrade without a token from negotiate is accepted. */
  readonly allowSkipNegotiation: boolean;
  readonly closeOnCredentialExpiry: boolean;
  /** Largest frame read from a client; ws refuses a larger one from its header (close 1009). */
  readonly maximumReceiveFrameSize: number;
  readonly requestCapture: ConnectionRequestCapture;
  /**
   * With a relay and authentication refresh: a connection whose credential expires takes the
   * refreshes other nodes forward for it from before its client hears of it; the returned
   * release ends that.
   */
  readonly holdForRefresh?: (connectionId: string) => Promise<() => void>;
  /** Whether the hub offers WebSockets (its `transports` option). */
  readonly enabled: boolean;
}

/** What one upgrade request brings: its socket, and who was admitted with it. */
interface Upgrade {
  readonly request: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly query: URLSearchParams;
  readonly admission: Admitted;
}

// Shared: every connection holds its features for its whole life.
const WITH_GROUPS_TOKENS: ConnectionFeatures = Object.freeze({ groupsTokens: true });
const WITHOUT_GROUPS_TOKENS: ConnectionFeatures = Object.freeze({ groupsTokens: false });

/**
 * The WebSocket face of a hub: admits an upgrade, checks the connection token it carries (a new
 * connection, a stateful reconnect, or a resumption on a node that lost the connection) and hands
 * the socket to the hub's connections.
 */
export class WebSocketTransport {
  private readonly webSockets: WebSocketServer;

  constructor(private readonly parts: WebSocketTransportParts) {
    this.webSockets = new WebSocketServer({ noServer: true, maxPayload: parts.maximumReceiveFrameSize, perMessageDeflate: false, clientTracking: false });
    // A malformed upgrade (no key, another WebSocket version) is answered as every other refusal,
    // rather than by ws's own page. ws refuses only GETs that fail its checks, and other methods.
    this.webSockets.on('wsClientError', (error: Error, socket: Duplex, request: IncomingMessage) =>
      refuseUpgrade(socket, request.method === 'GET' ? 400 : 405, error.message, VERSIONS_SPOKEN),
    );
  }

  async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): Promise<void> {
    const admission = await this.parts.gatekeeper.admit(request);
    if (!admission.admitted) return refuseUpgrade(socket, admission.status, admission.body);
    const upgrade: Upgrade = { request, socket, head, query, admission };
    if (!this.parts.enabled) return this.refuse(upgrade, 404, transportErrors.notSupported('WebSockets'), 'transport not enabled');
    const features = query.get(GROUPS_TOKEN_OPT_IN) === 'true' ? WITH_GROUPS_TOKENS : WITHOUT_GROUPS_TOKENS;
    const connectionToken = query.get('id');
    // skipNegotiation: the client never negotiated, so the server names the connection.
    if (connectionToken === null) {
      if (!this.parts.allowSkipNegotiation) return this.refuse(upgrade, 400, transportErrors.connectionIdRequired, 'upgrade without negotiate');
      return this.holdingSlot(upgrade, (slot) => this.accept(upgrade, newConnectionId(), Date.now(), features, slot));
    }
    // Opened once: every check below reads these claims.
    const claims = this.parts.connectionTokens.open(connectionToken);
    const resumeToken = query.get(RESUME_PARAMETER);
    if (resumeToken !== null && !(claims && this.parts.connections.has(claims.connectionId))) {
      const received = query.get(RECEIVED_PARAMETER);
      return this.holdingSlot(upgrade, (slot) => this.takeOver(upgrade, claims, resumeToken, received, slot));
    }
    return this.connect(upgrade, claims, features);
  }

  close(done: () => void): void {
    this.webSockets.close(() => done());
  }

  /** A new connection, or a stateful reconnect to this node, which keeps its slot. */
  private async connect(upgrade: Upgrade, claims: ConnectionTokenClaims | undefined, features: ConnectionFeatures): Promise<void> {
    const { connections, negotiateTokenLifetimeMs } = this.parts;
    const checked = claimConnection(claims, upgrade.admission.userKey, {
      hubPath: this.parts.path,
      unusedLifetimeMs: negotiateTokenLifetimeMs,
      isResumable: (id) => connections.resumable(id) !== undefined,
      liveTransport: (id) => connections.transportOf(id),
      transport: 'WebSockets',
    });
    if ('admitted' in checked) return this.refuse(upgrade, checked.status, checked.body, 'connection token refused');
    const resuming = connections.resumable(checked.connectionId);
    if (resuming) {
      const identity = this.identityOf(upgrade);
      this.webSockets.handleUpgrade(upgrade.request, upgrade.socket, upgrade.head, (webSocket) => resuming.resume(webSocket, identity));
      return;
    }
    return this.holdingSlot(upgrade, async (slot) => {
      const claimed = await claimNewId(this.parts.registry, checked, negotiateTokenLifetimeMs);
      if ('admitted' in claimed) return this.refuse(upgrade, claimed.status, claimed.body, claimed.reason);
      return this.accept(upgrade, checked.connectionId, claimed.forgetAt, features, slot);
    });
  }

  private async holdingSlot(upgrade: Upgrade, start: (slot: ConnectionSlot) => Promise<HubConnection | void>): Promise<void> {
    const refused = await holdingSlot(this.parts.caps, this.parts.path, upgrade.admission, start);
    if (refused) refuseUpgrade(upgrade.socket, refused.status, refused.body, refused.headers);
  }

  /**
   * A stateful reconnect reaching a node that does not hold the connection: the node that did
   * restarted, or the load balancer chose another one. Resumed only with a valid groups token,
   * and never once the connection ended anywhere the registry can see.
   */
  private async takeOver(
    upgrade: Upgrade,
    connection: ConnectionTokenClaims | undefined,
    resumeToken: string,
    received: string | null,
    slot: ConnectionSlot,
  ): Promise<HubConnection | void> {
    const { connections, groupsTokens } = this.parts;
    const claims = claimResumption(connection, resumeToken, upgrade.admission.userKey, { hubPath: this.parts.path, groupsTokens });
    if ('admitted' in claims) return this.refuse(upgrade, claims.status, claims.body, `resumption refused: ${claims.reason}`);
    const protocol = connections.protocols.get(claims.protocol);
    const receivedByClient = received === null ? Number.NaN : Number(received);
    if (!protocol || !Number.isSafeInteger(receivedByClient) || receivedByClient < 0) {
      return this.refuse(upgrade, 400, 'Bad Request', 'resumption without a valid received count');
    }
    let taken: Awaited<ReturnType<ConnectionRegistry['takeOver']>>;
    try {
      taken = await this.parts.registry.takeOver(claims.connectionId, connections.groupsTokenLifetimeMs);
    } catch (error) {
      logger.warn(`Cannot resume a connection while the connection registry is unreachable: ${(error as Error).message}`);
      return refuseUpgrade(upgrade.socket, 503, 'Service Unavailable');
    }
    if (taken === 'ended') return this.refuse(upgrade, 404, UNKNOWN_CONNECTION, 'resumption of an ended connection');
    if (taken === 'busy') return this.refuse(upgrade, 409, CONNECTION_IN_USE, 'resumption of a connection another node did not let go');
    // Two sockets may race to resume the same connection on this node: the first one wins.
    if (connections.has(claims.connectionId)) return this.refuse(upgrade, 409, CONNECTION_IN_USE, 'connection id in use');
    const recordedVersion = taken.membershipVersion;
    const membershipVersion = Math.max(claims.membershipVersion, recordedVersion ?? 0);
    const features: ConnectionFeatures = { groupsTokens: true, takeover: { protocol, receivedByClient, membershipVersion } };
    connections.expectRejoin(claims.connectionId, { claims, recordedVersion });
    const accepted = await this.accept(upgrade, claims.connectionId, Date.now(), features, slot);
    if (!accepted) connections.cancelRejoin(claims.connectionId);
    return accepted;
  }

  /** Upgrades the socket and starts the connection; resolves with it once the socket is open. */
  private async accept(upgrade: Upgrade, connectionId: string, forgetAt: number, features: ConnectionFeatures, slot: ConnectionSlot): Promise<HubConnection | undefined> {
    const { request, socket, head } = upgrade;
    const release = upgrade.admission.expiresAt === undefined ? undefined : await this.parts.holdForRefresh?.(connectionId);
    return new Promise((resolve) => {
      // ws answers a malformed upgrade itself and never calls back: the id must not stay live.
      const refusedByWs = () => {
        release?.();
        this.parts.connections.recordEnd(connectionId, forgetAt, false);
        resolve(undefined);
      };
      socket.once('close', refusedByWs);
      this.webSockets.handleUpgrade(request, socket, head, (webSocket) => {
        // Left in place, the listener would keep the upgrade request alive as long as the socket.
        socket.off('close', refusedByWs);
        resolve(this.parts.connections.open(webSocket, connectionId, this.identityOf(upgrade), features, forgetAt, slot, release));
      });
    });
  }

  private refuse(upgrade: Upgrade, status: number, body: string, reason: string): void {
    this.parts.gatekeeper.refuseToken(upgrade.request, status, body, reason);
    refuseUpgrade(upgrade.socket, status, body);
  }

  /** Taken once per socket, never per message: a stateful reconnect's socket brings its own. */
  private identityOf({ request, query, admission }: Upgrade): ConnectionIdentity {
    const { user, userKey, expiresAt } = admission;
    return {
      user,
      userIdentifier: userKey,
      expiresAt: this.parts.closeOnCredentialExpiry ? expiresAt : undefined,
      request: this.parts.requestCapture.capture(request, query, 'WebSockets', admission),
    };
  }
}
