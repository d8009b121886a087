import { pooledRandomBytes } from './random-pool.js';
import type { TokenService } from './token-service.js';

const PURPOSE = 'nestjs-signalr/connection-token';

/** What a connection token proves: the server issued this id, for this user, on this hub. */
export interface ConnectionTokenClaims {
  readonly connectionId: string;
  /** `undefined` for an anonymous connection. */
  readonly userKey: string | undefined;
  readonly hubPath: string;
  /** Epoch milliseconds. */
  readonly issuedAt: number;
}

interface SealedClaims extends Record<string, unknown> {
  c: string;
  u: string | null;
  h: string;
  t: number;
}

/** 128 random bits, URL-safe: connection ids travel in query strings and messages. */
export const newConnectionId = (): string => pooledRandomBytes(16).toString('base64url');

/**
 * Connection tokens are sealed, not stored: any node holding the key ring can check one, and
 * nothing in it can be read or changed by the client.
 */
export class ConnectionTokens {
  constructor(private readonly tokens: TokenService) {}

  issue(hubPath: string, userKey: string | undefined, now = Date.now()): { connectionId: string; connectionToken: string } {
    const connectionId = newConnectionId();
    const claims: SealedClaims = { c: connectionId, u: userKey ?? null, h: hubPath, t: now };
    return { connectionId, connectionToken: this.tokens.seal(PURPOSE, claims) };
  }

  open(connectionToken: string): ConnectionTokenClaims | undefined {
    const claims = this.tokens.open<Partial<SealedClaims>>(PURPOSE, connectionToken);
    if (!claims) return undefined;
    const { c, u, h, t } = claims;
    if (typeof c !== 'string' || typeof h !== 'string' || typeof t !== 'number' || (u !== null && typeof u !== 'string')) {
      return undefined;
    }
    return { connectionId: c, userKey: u ?? undefined, hubPath: h, issuedAt: t };
  }
}
