import { describe, expect, it } from 'vitest';
import { transportErrors } from '../../src/errors/transport-errors.js';
import type { TransportName } from '../../src/options/hub-options.js';
import {
  claimConnection,
  claimRequest,
  claimResumption,
  IDENTITY_CHANGED,
  UNKNOWN_CONNECTION,
  type ClaimRules,
} from '../../src/security/connection-claim.js';
import type { ConnectionTokenClaims } from '../../src/security/connection-tokens.js';
import { GroupsTokens, type GroupsTokenClaims } from '../../src/security/groups-tokens.js';
import { TokenService } from '../../src/security/token-service.js';

const hubPath = '/hubs/chat';
const claims: ConnectionTokenClaims = { connectionId: 'c1', userKey: 'alice', hubPath, issuedAt: 1_000 };
const unknown = { admitted: false, status: 404, body: UNKNOWN_CONNECTION, headers: {} };
const identityChanged = { admitted: false, status: 403, body: IDENTITY_CHANGED, headers: {} };

const rules = (changes: Partial<ClaimRules> = {}): ClaimRules => ({
  hubPath,
  unusedLifetimeMs: 15_000,
  isResumable: () => false,
  liveTransport: () => undefined,
  transport: 'WebSockets',
  ...changes,
});
const liveOn = (transport: TransportName) => (id: string) => (id === 'c1' ? transport : undefined);
const refused = (status: number, body: string, reason: string) => ({ admitted: false, status, body, headers: {}, reason });

describe('claimRequest', () => {
  it('names the connection of an authentic token of this hub and user', () => {
    expect(claimRequest(claims, 'alice', hubPath)).toEqual({ connectionId: 'c1', issuedAt: 1_000 });
    expect(claimRequest({ ...claims, userKey: undefined }, undefined, hubPath)).toEqual({ connectionId: 'c1', issuedAt: 1_000 });
  });

  it('knows no token that is not authentic or is of another hub: 404', () => {
    expect(claimRequest(undefined, 'alice', hubPath)).toEqual(unknown);
    expect(claimRequest(claims, 'alice', '/hubs/other')).toEqual(unknown);
  });

  it('refuses the token of another user, or of a user to an anonymous caller and back: 403', () => {
    expect(claimRequest(claims, 'bob', hubPath)).toEqual(identityChanged);
    expect(claimRequest(claims, undefined, hubPath)).toEqual(identityChanged);
    expect(claimRequest({ ...claims, userKey: undefined }, 'alice', hubPath)).toEqual(identityChanged);
  });
});

describe('claimConnection', () => {

  it('lets a fresh token open its connection until the last millisecond of its lifetime', () => {
    expect(claimConnection(claims, 'alice', rules(), 15_999)).toEqual({ connectionId: 'c1', issuedAt: 1_000 });
    expect(claimConnection(claims, 'alice', rules(), 16_000)).toEqual(unknown);
  });

  it('applies the checks of claimRequest first', () => {
    expect(claimConnection(claims, 'bob', rules({ isResumable: () => true }), 2_000)).toEqual(identityChanged);
    expect(claimConnection(claims, 'alice', rules({ hubPath: '/hubs/other' }), 2_000)).toEqual(unknown);
  });

  it('lets a connection waiting for its client reconnect, however old its token', () => {
    const resumable = rules({ isResumable: (id) => id === 'c1', liveTransport: liveOn('WebSockets') });
    expect(claimConnection(claims, 'alice', resumable, 1_000_000)).toEqual({ connectionId: 'c1', issuedAt: 1_000 });
  });

  it('refuses a token of a connection live on another transport: 400, the transport cannot change', () => {
    const cannotChange = { admitted: false, status: 400, body: transportErrors.cannotChange, headers: {} };
    expect(claimConnection(claims, 'alice', rules({ liveTransport: liveOn('LongPolling') }), 2_000)).toEqual(cannotChange);
    expect(claimConnection(claims, 'alice', rules({ liveTransport: liveOn('ServerSentEvents') }), 1_000_000)).toEqual(cannotChange);
  });

  it('leaves a connection live on the same transport to the registry, and its old token to the age check', () => {
    const live = rules({ liveTransport: liveOn('WebSockets') });
    expect(claimConnection(claims, 'alice', live, 2_000)).toEqual({ connectionId: 'c1', issuedAt: 1_000 });
    expect(claimConnection(claims, 'alice', live, 16_000)).toEqual(unknown);
  });
});

describe('claimResumption', () => {
  const groupsTokens = new GroupsTokens(new TokenService([TokenService.generateKey()]));
  const groupsClaims: Omit<GroupsTokenClaims, 'expiresAt'> = {
    connectionId: 'c1',
    userKey: 'alice',
    hubPath,
    groups: ['lobby'],
    membershipVersion: 2,
    protocol: 'json',
  };
  const groupsToken = (changes: Partial<GroupsTokenClaims> = {}) => groupsTokens.issue({ ...groupsClaims, ...changes }, 60_000, 1_000);
  const resume = (token: string, userKey: string | undefined, now = 2_000) => claimResumption(claims, token, userKey, { hubPath, groupsTokens }, now);

  it('hands back the claims of a groups token that agrees with the connection token, until it expires', () => {
    expect(resume(groupsToken(), 'alice', 60_999)).toEqual({ ...groupsClaims, expiresAt: 61_000 });
    expect(resume(groupsToken(), 'alice', 61_000)).toEqual(refused(404, UNKNOWN_CONNECTION, 'groups token expired'));
  });

  it('refuses a connection token that is not authentic', () => {
    const refusal = claimResumption(undefined, groupsToken(), 'alice', { hubPath, groupsTokens }, 2_000);
    expect(refusal).toEqual(refused(404, UNKNOWN_CONNECTION, 'connection token refused'));
  });

  it('refuses a groups token that is not authentic, or is of another connection, hub or user', () => {
    expect(resume('not-a-token', 'alice')).toEqual(refused(404, UNKNOWN_CONNECTION, 'groups token not authentic'));
    expect(resume(groupsToken({ connectionId: 'c2' }), 'alice')).toEqual(refused(404, UNKNOWN_CONNECTION, 'groups token of another connection'));
    expect(resume(groupsToken({ hubPath: '/hubs/other' }), 'alice')).toEqual(refused(404, UNKNOWN_CONNECTION, 'groups token of another hub'));
    expect(resume(groupsToken({ userKey: 'bob' }), 'alice')).toEqual(refused(403, IDENTITY_CHANGED, 'groups token of another user'));
  });

  it("refuses both of a user's tokens presented by someone else", () => {
    expect(resume(groupsToken(), 'mallory')).toEqual(refused(403, IDENTITY_CHANGED, 'groups token of another user'));
    expect(resume(groupsToken(), undefined)).toEqual(refused(403, IDENTITY_CHANGED, 'groups token of another user'));
  });
});
