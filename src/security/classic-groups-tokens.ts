import type { TokenService } from './token-service.js';

const PURPOSE = 'nestjs-signalr/classic-groups-token';

/** What a classic groups token (`G`, echoed back as `groupsToken`) proves of one connection's groups. */
export interface ClassicGroupsTokenClaims {
  readonly connectionId: string;
  /** `undefined` for an anonymous connection. */
  readonly userKey: string | undefined;
  /** The groups of each hub, by lower-cased classic hub name. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** Grows with every membership change: a token older than the recorded version restores nothing. */
  readonly membershipVersion: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

interface SealedClaims extends Record<string, unknown> {
  c: string;
  u: string | null;
  g: Record<string, string[]>;
  v: number;
  x: number;
}

/**
 * Classic SignalR's groups token, sealed with the same key ring as every other token: bound to
 * the connection and its user, expiring and versioned, where classic SignalR's was neither, so a
 * replayed older token never brings back a group the connection left since.
 */
export class ClassicGroupsTokens {
  constructor(private readonly tokens: TokenService) {}

  /** Throws when the groups do not fit in a token. */
  issue(claims: Omit<ClassicGroupsTokenClaims, 'expiresAt'>, lifetimeMs: number, now = Date.now()): string {
    const groups = Object.fromEntries(Object.entries(claims.groups).map(([hub, names]) => [hub, [...names]]));
    const sealed: SealedClaims = { c: claims.connectionId, u: claims.userKey ?? null, g: groups, v: claims.membershipVersion, x: now + lifetimeMs };
    return this.tokens.seal(PURPOSE, sealed);
  }

  /** The claims of an authentic token, expired or not; undefined for anything else. */
  open(token: string): ClassicGroupsTokenClaims | undefined {
    const claims = this.tokens.open<Partial<SealedClaims>>(PURPOSE, token);
    if (!claims) return undefined;
    const { c, u, g, v, x } = claims;
    const wellFormed =
      typeof c === 'string' &&
      (u === null || typeof u === 'string') &&
      typeof g === 'object' &&
      g !== null &&
      Object.values(g).every((names) => Array.isArray(names) && names.every((name) => typeof name === 'string')) &&
      Number.isSafeInteger(v) &&
      typeof x === 'number';
    if (!wellFormed) return undefined;
    return { connectionId: c, userKey: u ?? undefined, groups: g, membershipVersion: v!, expiresAt: x };
  }
}
