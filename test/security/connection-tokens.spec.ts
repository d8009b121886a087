import { describe, expect, it } from 'vitest';
import { ConnectionTokens } from '../../src/security/connection-tokens.js';
import { TokenService } from '../../src/security/token-service.js';

// The purpose connection tokens are sealed for: a payload sealed under it with the ring's key is
// authentic, so only the shape check stands between a malformed one (a bug, an older release's
// format, a leaked key) and the claim checks.
const PURPOSE = 'nestjs-signalr/connection-token';
const service = new TokenService([TokenService.generateKey()]);
const connectionTokens = new ConnectionTokens(service);
const WELL_FORMED = { c: 'c0nnecti0n', u: 'alice', h: '/hubs/chat', t: 1_000 };

describe('ConnectionTokens', () => {
  it('opens what it issues: id, user, hub and time of issue', () => {
    const { connectionId, connectionToken } = connectionTokens.issue('/hubs/chat', 'alice', 1_000);
    expect(connectionTokens.open(connectionToken)).toEqual({ connectionId, userKey: 'alice', hubPath: '/hubs/chat', issuedAt: 1_000 });
    expect(connectionTokens.open(connectionTokens.issue('/hubs/chat', undefined).connectionToken)?.userKey).toBeUndefined();
  });

  it('reads the sealed fields of an authentic payload, an anonymous one too', () => {
    expect(connectionTokens.open(service.seal(PURPOSE, WELL_FORMED))).toEqual({
      connectionId: 'c0nnecti0n',
      userKey: 'alice',
      hubPath: '/hubs/chat',
      issuedAt: 1_000,
    });
    expect(connectionTokens.open(service.seal(PURPOSE, { ...WELL_FORMED, u: null }))).toMatchObject({ userKey: undefined });
  });

  it.each([
    ['an id that is not a string', { c: 7 }],
    ['no id', { c: undefined }],
    ['a user key that is neither a string nor null', { u: 7 }],
    ['no user key at all', { u: undefined }],
    ['a hub path that is not a string', { h: ['/hubs/chat'] }],
    ['an issue time that is not a number', { t: '1000' }],
  ])('opens nothing from an authentic payload with %s', (_case, change) => {
    expect(connectionTokens.open(service.seal(PURPOSE, { ...WELL_FORMED, ...change }))).toBeUndefined();
  });
});
