import { describe, expect, it } from 'vitest';
import { ConnectionTokens } from '../../src/security/connection-tokens.js';
import { GroupsTokens } from '../../src/security/groups-tokens.js';
import { TokenService } from '../../src/security/token-service.js';

// The purpose groups tokens are sealed for; see connection-tokens.spec.ts for why payloads are sealed here by hand.
const PURPOSE = 'nestjs-signalr/groups-token';
const service = new TokenService([TokenService.generateKey()]);
const groupsTokens = new GroupsTokens(service);
const claims = {
  connectionId: 'c0nnecti0n',
  userKey: 'alice',
  hubPath: '/hubs/chat',
  groups: ['lobby', 'room 42'],
  membershipVersion: 7,
  protocol: 'messagepack',
};
const WELL_FORMED = { c: 'c0nnecti0n', u: 'alice', h: '/hubs/chat', g: ['lobby'], v: 3, p: 'json', x: 9_000 };

describe('GroupsTokens', () => {
  it('seals what it opens: connection, user, hub, groups, version, protocol and expiry', () => {
    const token = groupsTokens.issue(claims, 60_000, 1_000);
    expect(groupsTokens.open(token)).toEqual({ ...claims, expiresAt: 61_000 });
    expect(token).not.toContain('lobby');
  });

  it('keeps an anonymous connection anonymous', () => {
    const token = groupsTokens.issue({ ...claims, userKey: undefined }, 60_000, 1_000);
    expect(groupsTokens.open(token)).toEqual({ ...claims, userKey: undefined, expiresAt: 61_000 });
  });

  it('opens nothing sealed for another purpose, by another key ring, or changed', () => {
    const connectionToken = new ConnectionTokens(service).issue('/hubs/chat', 'alice').connectionToken;
    expect(groupsTokens.open(connectionToken)).toBeUndefined();
    const elsewhere = new GroupsTokens(new TokenService([TokenService.generateKey()]));
    expect(groupsTokens.open(elsewhere.issue(claims, 60_000))).toBeUndefined();
    const token = groupsTokens.issue(claims, 60_000);
    for (let index = 0; index < token.length; index += 7) {
      const flipped = `${token.slice(0, index)}${token[index] === 'A' ? 'B' : 'A'}${token.slice(index + 1)}`;
      expect(groupsTokens.open(flipped)).toBeUndefined();
    }
  });

  it('refuses to seal more groups than a token can carry', () => {
    const groups = Array.from({ length: 400 }, (_, index) => `group-with-a-long-name-${index}`);
    expect(() => groupsTokens.issue({ ...claims, groups }, 60_000)).toThrow();
  });

  it('reads the sealed fields of an authentic payload', () => {
    expect(groupsTokens.open(service.seal(PURPOSE, WELL_FORMED))).toEqual({
      connectionId: 'c0nnecti0n',
      userKey: 'alice',
      hubPath: '/hubs/chat',
      groups: ['lobby'],
      membershipVersion: 3,
      protocol: 'json',
      expiresAt: 9_000,
    });
  });

  it.each([
    ['an id that is not a string', { c: 7 }],
    ['a user key that is neither a string nor null', { u: 7 }],
    ['no user key at all', { u: undefined }],
    ['a hub path that is not a string', { h: null }],
    ['groups that are not a list', { g: 'lobby' }],
    ['a group that is not a string', { g: ['lobby', 42] }],
    ['a membership version that is not an integer', { v: 1.5 }],
    ['a membership version that is text', { v: '3' }],
    ['a protocol that is not a string', { p: 1 }],
    ['an expiry that is not a number', { x: '9000' }],
  ])('opens nothing from an authentic payload with %s', (_case, change) => {
    expect(groupsTokens.open(service.seal(PURPOSE, { ...WELL_FORMED, ...change }))).toBeUndefined();
  });
});
