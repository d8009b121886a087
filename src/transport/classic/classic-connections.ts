import type { IncomingMessage } from 'node:http';
import type { ConnectionIdentity } from '../../connection/connection-features.js';
import type { HubConnection } from '../../connection/hub-connection.js';
import type { ResolvedClassicEndpointOptions, ClassicTransportName } from '../../options/classic-endpoint-options.js';
import type { ConnectionCaps } from '../../security/connection-caps.js';
import { CONNECTION_IN_USE, UNKNOWN_CONNECTION } from '../../security/connection-claim.js';
import { refusal, type Admitted, type Refusal } from '../../security/hub-gatekeeper.js';
import { claimNewId, holdingSlot } from '../connection-opening.js';
import type { ConnectionRequestCapture } from '../connection-request-capture.js';
import { ClassicConnection } from './classic-connection.js';
import type { ClassicHub } from './classic-hub.js';
import { MODERN_TRANSPORT, type ClassicClaims } from './classic-request.js';

/**
 * What the hub connections of a classic connection know of their transport: text only, no
 * stateful reconnect (classic reconnects keep the connection on the server instead), and no
 * pings either way: the classic connection sends its own keep-alives and ends itself when its
 * client stays away.
 */
const CLASSIC_FEATURES = { groupsTokens: false, statefulReconnect: false, textOnly: true, inherentKeepAlive: true } as const;

export interface ClassicConnectionsParts {
  readonly options: ResolvedClassicEndpointOptions;
  readonly caps: ConnectionCaps;
  readonly negotiateTokenLifetimeMs: number;
  readonly closeOnCredentialExpiry: boolean;
  readonly requestCapture: ConnectionRequestCapture;
}

/** The request that opens a classic connection, admitted, with its token checked. */
export interface OpeningRequest {
  readonly request: IncomingMessage;
  readonly query: URLSearchParams;
  readonly admission: Admitted;
  readonly claims: ClassicClaims;
  readonly transport: ClassicTransportName;
}

/** The classic connections this node holds, by id, and how one is opened on each of its hubs. */
export class ClassicConnections {
  private readonly live = new Map<string, ClassicConnection>();

  constructor(private readonly parts: ClassicConnectionsParts) {}

  get(connectionId: string): ClassicConnection | undefined {
    return this.live.get(connectionId);
  }

  /**
   * Opens a hub connection on each hub, each holding a slot under the caps and its id claimed in
   * the hub's registry, as a modern connection's first request does; any refusal undoes the others.
   */
  async open(opening: OpeningRequest, hubs: readonly ClassicHub[]): Promise<ClassicConnection | Refusal> {
    const { claims, admission } = opening;
    const { connectionId } = claims;
    if (claims.issuedAt + this.parts.negotiateTokenLifetimeMs <= Date.now()) return refusal(404, UNKNOWN_CONNECTION);
    if (this.live.has(connectionId)) return refusal(409, CONNECTION_IN_USE);
    const connection = new ClassicConnection(connectionId, admission.userKey, this.parts.options, (ended) => {
      if (this.live.get(connectionId) === ended) this.live.delete(connectionId);
    });
    this.live.set(connectionId, connection);
    for (const hub of hubs) {
      const refused = await this.openOn(hub, opening, connection);
      if (refused) {
        connection.end();
        return refused;
      }
    }
    return connection;
  }

  /** Ends every connection: the node shuts down. */
  close(): void {
    for (const connection of this.live.values()) connection.end();
  }

  private async openOn(hub: ClassicHub, opening: OpeningRequest, connection: ClassicConnection): Promise<Refusal | undefined> {
    const { claims, admission } = opening;
    let refused: Refusal | undefined;
    const overCaps = await holdingSlot(this.parts.caps, hub.path, admission, async (slot): Promise<HubConnection | void> => {
      const claimed = await claimNewId(hub.registry, claims, this.parts.negotiateTokenLifetimeMs);
      if ('admitted' in claimed) {
        refused = claimed;
        return;
      }
      if (connection.isEnded) return;
      const channel = connection.addHub(hub.name.toLowerCase(), hub.name);
      return hub.connections.open(channel, claims.connectionId, this.identityOf(opening), CLASSIC_FEATURES, claimed.forgetAt, slot);
    });
    return overCaps ?? refused ?? (connection.isEnded ? refusal(404, UNKNOWN_CONNECTION) : undefined);
  }

  private identityOf({ request, query, admission, transport }: OpeningRequest): ConnectionIdentity {
    const { user, userKey, expiresAt } = admission;
    return {
      user,
      userIdentifier: userKey,
      expiresAt: this.parts.closeOnCredentialExpiry ? expiresAt : undefined,
      request: this.parts.requestCapture.capture(request, query, MODERN_TRANSPORT[transport], admission),
    };
  }
}
