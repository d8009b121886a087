import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClassicGroupsTokens } from '../../src/security/classic-groups-tokens.js';
import { TokenService } from '../../src/security/token-service.js';

// The purpose classic groups tokens are sealed for: payloads of every shape are sealed under it by hand,
// as only a key holder could, to show that an authentic token with a malformed body still opens to nothing.
const PURPOSE = 'nestjs-signalr/classic-groups-token';
const WELL_FORMED = { c: 'c1', u: null, g: { chathub: ['lobby'], statushub: [] }, v: 2, x: 9_000 };

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

  it('open an authentic body of the right shape, an anonymous one included', () => {
    const service = new TokenService([randomBytes(32)]);
    expect(new ClassicGroupsTokens(service).open(service.seal(PURPOSE, WELL_FORMED))).toEqual({
      connectionId: 'c1',
      userKey: undefined,
      groups: { chathub: ['lobby'], statushub: [] },
      membershipVersion: 2,
      expiresAt: 9_000,
    });
  });

  it.each([
    ['a connection id that is not a string', { c: 1 }],
    ['a user key that is a number', { u: 1 }],
    ['no user key', { u: undefined }],
    ['groups that are null', { g: null }],
    ['groups that are a hub name', { g: 'chathub' }],
    ['one hub whose groups are not a list', { g: { chathub: ['lobby'], statushub: 'lobby' } }],
    ['a group name that is a number', { g: { chathub: ['lobby', 42] } }],
    ['a fractional membership version', { v: 2.5 }],
    ['a membership version written as text', { v: '2' }],
    ['an expiry written as text', { x: '9000' }],
  ])('open nothing from an authentic body with %s', (_case, change) => {
    const service = new TokenService([randomBytes(32)]);
    expect(new ClassicGroupsTokens(service).open(service.seal(PURPOSE, { ...WELL_FORMED, ...change }))).toBeUndefined();
  });
});
