import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClassicGroupsTokens } from '../../src/security/classic-groups-tokens.js';
import { TokenService } from '../../src/security/token-service.js';

describe('classic groups tokens', () => {
  it('expire: the claims carry the end of their lifetime', () => {
    const tokens = new ClassicGroupsTokens(new TokenService([randomBytes(32)]));
    const token = tokens.issue({ connectionId: 'c1', userKey: undefined, groups: {}, membershipVersion: 1 }, 60_000, 1_000);
    expect(tokens.open(token)).toEqual({ connectionId: 'c1', userKey: undefined, groups: {}, membershipVersion: 1, expiresAt: 61_000 });
  });

  it('are sealed: opaque to the client, and open only as themselves', () => {
    const service = new TokenService([randomBytes(32)]);
    const tokens = new ClassicGroupsTokens(service);
    const token = tokens.issue({ connectionId: 'c1', userKey: 'alice', groups: { chathub: ['secret-room'] }, membershipVersion: 3 }, 60_000);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('secret-room');
    expect(tokens.open(token)).toMatchObject({ connectionId: 'c1', userKey: 'alice', groups: { chathub: ['secret-room'] }, membershipVersion: 3 });
    expect(tokens.open(`${token.slice(0, -2)}AA`)).toBeUndefined();
  });
});
