import type { TokenService } from './token-service.js';

const PURPOSE = 'nestjs-signalr/groups-token';

/** What a groups token proves: the server put this connection of this user in these groups. */
export interface GroupsTokenClaims {
  readonly connectionId: string;
  /** `undefined` for an anonymous connection. */
  readonly userKey: string | undefined;
  readonly hubPath: string;
  readonly groups: readonly string[];
  /** Grows with every membership change, so an older token can be told from the latest. */
  readonly membershipVersion: number;
  /** The hub protocol the connection speaks: a resumed connection has no handshake to say it. */
  readonly protocol: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

interface SealedClaims extends Record<string, unknown> {
  c: string;
  u: string | null;
  h: string;
  g: string[];
  v: number;
  p: string;
  x: number;
}

/**
 * Groups tokens let a connection that resumes on a node without its state get its groups back
 * without the node trusting the client: the client only carries them, sealed, and can neither
 * read nor change them. Unlike classic SignalR's, they expire.
 */
export class GroupsTokens {
  constructor(private readonly tokens: TokenService) {}

  issue(claims: Omit<GroupsTokenClaims, 'expiresAt'>, lifetimeMs: number, now = Date.now()): string {
    const sealed: SealedClaims = {
      c: claims.connectionId,
      u: claims.userKey ?? null,
      h: claims.hubPath,
      g: [...claims.groups],
      v: claims.membershipVersion,
      p: claims.protocol,
      x: now + lifetimeMs,
    };
    return this.tokens.seal(PURPOSE, sealed);
  }

  /** The claims of an authentic groups token, expired or not; undefined for anything else. */
  open(groupsToken: string): GroupsTokenClaims | undefined {
    const claims = this.tokens.open<Partial<SealedClaims>>(PURPOSE, groupsToken);
    if (!claims) return undefined;
    const { c, u, h, g, v, p, x } = claims;
    const wellFormed =
      typeof c === 'string' &&
      (u === null || typeof u === 'string') &&
      typeof h === 'string' &&
      Array.isArray(g) &&
      g.every((group) => typeof group === 'string') &&
      Number.isSafeInteger(v) &&
      typeof p === 'string' &&
      typeof x === 'number';
    if (!wellFormed) return undefined;
    return { connectionId: c, userKey: u ?? undefined, hubPath: h, groups: g, membershipVersion: v!, protocol: p, expiresAt: x };
  }
}
