import { describe, expect, it } from 'vitest';
import { defaultCredentialExpiresAt, defaultUserIdentifier, defaultUserRoles, UserIdentity } from '../../src/security/user-identity.js';

/** What Passport strategies hand over besides objects: a bare name, a flag, nothing. */
const NOT_OBJECTS = ['alice', 42, true, null, undefined];

describe('defaultUserIdentifier', () => {
  it('reads sub, then id, then username', () => {
    expect(defaultUserIdentifier({ sub: 'from-sub', id: 'from-id', username: 'from-username' })).toBe('from-sub');
    expect(defaultUserIdentifier({ id: 'from-id', username: 'from-username' })).toBe('from-id');
    expect(defaultUserIdentifier({ username: 'from-username' })).toBe('from-username');
  });

  it('reads a numeric id as its decimal text, as a database row carries it', () => {
    expect(defaultUserIdentifier({ id: 42 })).toBe('42');
    expect(defaultUserIdentifier({ sub: 0 })).toBe('0');
  });

  it('skips empty, non-finite and non-scalar values for the next field', () => {
    expect(defaultUserIdentifier({ sub: '', id: 'from-id' })).toBe('from-id');
    expect(defaultUserIdentifier({ sub: Number.NaN, id: Number.POSITIVE_INFINITY, username: 'from-username' })).toBe('from-username');
    expect(defaultUserIdentifier({ sub: { nested: 'x' }, id: ['y'], username: true })).toBeUndefined();
  });

  it('identifies no one without a user object', () => {
    for (const user of NOT_OBJECTS) expect(defaultUserIdentifier(user)).toBeUndefined();
  });
});

describe('defaultUserRoles', () => {
  it('reads the string entries of roles', () => {
    expect(defaultUserRoles({ roles: ['admin', 7, null, 'user'] })).toEqual(['admin', 'user']);
  });

  it('reads a single role string when there is no roles array', () => {
    expect(defaultUserRoles({ role: 'admin' })).toEqual(['admin']);
    expect(defaultUserRoles({ roles: 'admin' })).toEqual([]);
    expect(defaultUserRoles({ role: ['admin'] })).toEqual([]);
  });

  it('prefers roles over role', () => {
    expect(defaultUserRoles({ roles: ['user'], role: 'admin' })).toEqual(['user']);
  });

  it('gives no role without a user object', () => {
    for (const user of NOT_OBJECTS) expect(defaultUserRoles(user)).toEqual([]);
  });
});

describe('defaultCredentialExpiresAt', () => {
  it('reads exp as JWT seconds', () => {
    expect(defaultCredentialExpiresAt({ exp: 1_700_000_000 })).toBe(1_700_000_000_000);
  });

  it('has no expiry for a missing, textual or non-finite exp, or without a user object', () => {
    for (const exp of [undefined, '1700000000', Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(defaultCredentialExpiresAt({ exp })).toBeUndefined();
    }
    for (const user of NOT_OBJECTS) expect(defaultCredentialExpiresAt(user)).toBeUndefined();
  });
});

describe('UserIdentity', () => {
  it('uses the defaults when no function is configured', () => {
    const identity = new UserIdentity({});
    const user = { sub: 'alice', roles: ['admin'], exp: 10 };
    expect(identity.identifierOf(user)).toBe('alice');
    expect(identity.rolesOf(user)).toEqual(['admin']);
    expect(identity.expiryOf(user, undefined)).toBe(10_000);
  });

  it("uses the application's functions, and reads a Date expiry as epoch milliseconds", () => {
    const identity = new UserIdentity({
      userIdentifier: (user) => (user as { email: string }).email,
      userRoles: (user) => (user as { groups: string[] }).groups,
      credentialExpiresAt: (_user, info) => (info as { validUntil: Date }).validUntil,
    });
    const user = { sub: 'alice', email: 'alice@example.test', groups: ['staff'], exp: 10 };
    expect(identity.identifierOf(user)).toBe('alice@example.test');
    expect(identity.rolesOf(user)).toEqual(['staff']);
    expect(identity.expiryOf(user, { validUntil: new Date(1_234_567) })).toBe(1_234_567);
    expect(new UserIdentity({ credentialExpiresAt: () => 99 }).expiryOf(user, undefined)).toBe(99);
  });
});
