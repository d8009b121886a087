import type { IncomingMessage } from 'node:http';
import type { ConnectionIdentity } from '../../connection/connection-features.js';
import type { ResolvedClassicEndpointOptions, ClassicTransportName } from '../../options/classic-endpoint-options.js';
import type { ConnectionCaps } from '../../security/connection-caps.js';
import { CONNECTION_IN_USE, UNKNOWN_CONNECTION } from '../../security/connection-claim.js';
import { refusal, type Admitted, type Refusal } from '../../security/hub-gatekeeper.js';
import { Logger } from '@nestjs/common';
import { classicErrors } from '../../errors/classic-errors.js';
import type { ClassicGroupsTokens } from '../../security/classic-groups-tokens.js';
import { SharedSlot } from '../../security/shared-slot.js';
import { claimNewId, type ExplainedRefusal } from '../connection-opening.js';
import type { ConnectionRequestCapture } from '../connection-request-capture.js';
import { ClassicConnection } from './classic-connection.js';
import { ClassicMembership } from './classic-membership.js';
import type { ClassicHub } from './classic-hub.js';
import { MODERN_TRANSPORT, type ClassicClaims } from './classic-request.js';

/**
 * What the hub connections of a classic connection know of their transport: text only, no
 * stateful reconnect (classic reconnects keep the connection on the server instead), and no
 * pings either way: the classic connection sends its own keep-alives and ends itself when its
 * client stays away.
 */
const CLASSIC_FEATURES = { groupsTokens: false, statefulReconnect: false, textOnly: true, inherentKeepAlive: true } as const;

const logger = new Logger('SignalR:Classic');

export interface ClassicConnectionsParts {
  readonly options: ResolvedClassicEndpointOptions;
  readonly groupsTokens: ClassicGroupsTokens;
  readonly groupsTokenLifetimeMs: number;
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

/** Claims a connection's id in one hub's registry: anew, or taken over from a node that lost it. */
type IdClaim = (hub: ClassicHub) => Promise<{ readonly forgetAt: number } | ExplainedRefusal>;

function logRegistryFailure(error: Error): void {
  logger.warn(`The connection registry failed: ${error.message}`);
}

/** The classic connections this node holds, by id, and how one is opened on each of its hubs. */
export class ClassicConnections {
  private readonly live = new Map<string, ClassicConnection>();

  constructor(private readonly parts: ClassicConnectionsParts) {}

  /** The connection the claims name, if this node holds it and it has exactly these hubs: a request cannot add one. */
  held(claims: ClassicClaims, hubs: readonly ClassicHub[]): ClassicConnection | undefined {
    const connection = this.live.get(claims.connectionId);
    if (!connection) return undefined;
    const asked = hubs.map((hub) => hub.name.toLowerCase()).toSorted();
    const held = connection.hubNames;
    return asked.length === held.length && asked.every((name, index) => name === held[index]) ? connection : undefined;
  }

  /** A reconnect: the connection this node holds, or, with a groups token, the one it resumes. */
  async reconnect(opening: OpeningRequest, hubs: readonly ClassicHub[], groupsToken: string | null | undefined): Promise<ClassicConnection | Refusal> {
    const held = this.held(opening.claims, hubs);
    if (held) return held;
    if (!groupsToken) return refusal(400, classicErrors.unknownConnection);
    return this.resume(opening, hubs, groupsToken);
  }

  /**
   * Opens a hub connection on each hub, each holding a slot under the caps and its id claimed in
   * the hub's registry, as a modern connection's first request does; any refusal undoes the others.
   */
  async open(opening: OpeningRequest, hubs: readonly ClassicHub[]): Promise<ClassicConnection | Refusal> {
    const { claims } = opening;
    if (claims.issuedAt + this.parts.negotiateTokenLifetimeMs <= Date.now()) return refusal(404, UNKNOWN_CONNECTION);
    return this.start(opening, hubs, 0, (hub) => claimNewId(hub.registry, claims, this.parts.negotiateTokenLifetimeMs));
  }

  /**
   * A reconnect reaching a node that does not hold the connection (it restarted, or the client
   * came to another node): the connection goes on here with the id it had, once its groups token
   * (sealed, for this connection and user, unexpired) proves the client held it recently, and
   * never once the registry saw it end. Its groups come back as a resumed modern connection's do:
   * only if no newer membership was recorded, each through `canRejoin`.
   */
  async resume(opening: OpeningRequest, hubs: readonly ClassicHub[], groupsToken: string): Promise<ClassicConnection | Refusal> {
    const { claims, admission } = opening;
    const groups = this.parts.groupsTokens.open(groupsToken);
    if (!groups || groups.connectionId !== claims.connectionId || groups.userKey !== admission.userKey || groups.expiresAt <= Date.now()) {
      return refusal(400, classicErrors.unknownConnection);
    }
    const resumed = await this.start(opening, hubs, groups.membershipVersion, async (hub) => {
      const taken = await hub.registry.takeOver(claims.connectionId, this.parts.groupsTokenLifetimeMs);
      if (taken === 'ended') return { ...refusal(404, UNKNOWN_CONNECTION), reason: 'resumption of an ended connection' };
      if (taken === 'busy') return { ...refusal(409, CONNECTION_IN_USE), reason: 'resumption of a connection another node holds' };
      const hubClaims = { ...groups, hubPath: hub.path, groups: groups.groups[hub.name.toLowerCase()] ?? [], protocol: 'json' };
      hub.connections.expectRejoin(claims.connectionId, { claims: hubClaims, recordedVersion: taken.membershipVersion });
      return { forgetAt: Date.now() };
    });
    if ('admitted' in resumed) return resumed;
    // The client does not start again: its hubs' onConnected, which rejoins the groups, runs now.
    return (await resumed.start()) ? resumed : refusal(500, 'Internal Server Error');
  }

  /**
   * Opens a hub connection on each hub. The classic connection takes one slot under the caps,
   * however many hubs it has (it is one connection to its client), before any id is claimed;
   * any refusal undoes the hub connections opened already.
   */
  private async start(opening: OpeningRequest, hubs: readonly ClassicHub[], membershipVersion: number, claim: IdClaim): Promise<ClassicConnection | Refusal> {
    const { claims, admission } = opening;
    const { connectionId } = claims;
    if (this.live.has(connectionId)) return refusal(409, CONNECTION_IN_USE);
    const taken = this.parts.caps.take(this.parts.options.path, admission.userKey, admission.address);
    if (!taken.admitted) return taken;
    const slot = new SharedSlot(taken);
    const membership = new ClassicMembership((groups, version) => this.issueGroupsToken(opening, hubs, groups, version), membershipVersion);
    const connection = new ClassicConnection(connectionId, admission.userKey, this.parts.options, (ended) => {
      if (this.live.get(connectionId) === ended) this.live.delete(connectionId);
    }, membership);
    this.live.set(connectionId, connection);
    try {
      for (const hub of hubs) {
        const refused = await this.openOn(hub, opening, connection, claim, slot);
        if (refused) {
          connection.end();
          return refused;
        }
      }
    } finally {
      slot.seal();
    }
    return connection;
  }

  private issueGroupsToken(opening: OpeningRequest, hubs: readonly ClassicHub[], groups: Readonly<Record<string, readonly string[]>>, version: number): string {
    const { connectionId } = opening.claims;
    const { groupsTokenLifetimeMs } = this.parts;
    // Recorded whether or not the token can carry the groups: an older token must never look current.
    for (const hub of hubs) hub.registry.recordMembership(connectionId, version, groupsTokenLifetimeMs).catch(logRegistryFailure);
    return this.parts.groupsTokens.issue({ connectionId, userKey: opening.admission.userKey, groups, membershipVersion: version }, groupsTokenLifetimeMs);
  }

  /** Tells every client to stop and ends its connection: the node shuts down. */
  close(): void {
    for (const connection of this.live.values()) connection.shutDown();
  }

  private async openOn(hub: ClassicHub, opening: OpeningRequest, connection: ClassicConnection, claim: IdClaim, slot: SharedSlot): Promise<Refusal | undefined> {
    const claimed = await claim(hub);
    if ('admitted' in claimed) return claimed;
    if (connection.isEnded) return refusal(404, UNKNOWN_CONNECTION);
    const hubKey = hub.name.toLowerCase();
    const channel = connection.addHub(hubKey, hub.name, hub.acceptsState);
    const features = { ...CLASSIC_FEATURES, classicCalls: channel, membershipObserver: (group: string, member: boolean) => connection.membershipChanged(hubKey, group, member) };
    const share = slot.share();
    try {
      hub.connections.open(channel, opening.claims.connectionId, this.identityOf(opening), features, claimed.forgetAt, share);
    } catch (error) {
      share.release();
      throw error;
    }
    return undefined;
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
