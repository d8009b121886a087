import { describe, expect, it } from 'vitest';
import { ConnectionTokens } from '../../src/security/connection-tokens.js';
import { GroupsTokens } from '../../src/security/groups-tokens.js';
import { TokenService } from '../../src/security/token-service.js';

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

describe('GroupsTokens', () => {
  it('seals what it opens: connection, user, hub, groups, version, protocol and expiry', () => {
    const token = groupsTokens.issue(claims, 60_000, 1_000);
    expect(groupsTokens.open(token)).toEqual({ ...claims, expiresAt: 61_000 });
    expect(token).not.toContain('lobby');
  });

  it('keeps an anonymous connection anonymous', () => {
    const token = groupsTokens.issue({ ...claims, userKey: undefined }, 60_000);
    expect(groupsTokens.open(token)?.userKey).toBeUndefined();
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
});
