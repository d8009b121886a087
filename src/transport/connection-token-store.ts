import { randomBytes } from 'node:crypto';

export type TokenClaim =
  | { readonly outcome: 'accepted'; readonly connectionId: string }
  | { readonly outcome: 'unknown' }
  | { readonly outcome: 'in-use' };

interface IssuedToken {
  readonly connectionId: string;
  readonly expiresAt: number;
  inUse: boolean;
}

/** 128 random bits, URL-safe: ids and tokens travel in query strings. */
export const newRandomId = (): string => randomBytes(16).toString('base64url');

/**
 * Connection tokens handed out by negotiate. A token opens one socket at a time, dies with its
 * connection, and expires when no socket claims it in time.
 */
export class ConnectionTokenStore {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(private readonly unusedLifetimeMs: number) {}

  issue(now = Date.now()): { connectionId: string; connectionToken: string } {
    const connectionId = newRandomId();
    const connectionToken = newRandomId();
    this.tokens.set(connectionToken, { connectionId, expiresAt: now + this.unusedLifetimeMs, inUse: false });
    return { connectionId, connectionToken };
  }

  claim(connectionToken: string, now = Date.now()): TokenClaim {
    const token = this.tokens.get(connectionToken);
    if (!token || (!token.inUse && token.expiresAt <= now)) return { outcome: 'unknown' };
    if (token.inUse) return { outcome: 'in-use' };
    token.inUse = true;
    return { outcome: 'accepted', connectionId: token.connectionId };
  }

  /** The connection ended: its token is dead for good. */
  release(connectionToken: string): void {
    this.tokens.delete(connectionToken);
  }

  sweepExpired(now = Date.now()): void {
    for (const [key, token] of this.tokens) {
      if (!token.inUse && token.expiresAt <= now) this.tokens.delete(key);
    }
  }
}
